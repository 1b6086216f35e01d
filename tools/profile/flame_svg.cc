// flame_svg: builds the call tree of the folded stacks, then writes one
// rectangle per node, depth-first, children in name order.
#include "tools/profile/flame_svg.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>

namespace profile {
namespace {

// Layout constants, in pixels. Labels use a monospace font, so a label's
// width is known without measuring text: kCharWidth per character at
// kFontSize.
constexpr double kPad = 10;
constexpr double kTop = 36;  // room for the title and the subtitle
constexpr double kBottom = 10;
constexpr double kFontSize = 12;
constexpr double kCharWidth = 7.2;

struct Node {
  uint64_t count = 0;
  std::map<std::string, std::unique_ptr<Node>> children;  // in name order
};

std::string escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

// [flamegraph]'s "hot" palette: red 205..255, green 0..230, blue 0..55,
// picked from a hash of the name so a function keeps its colour across runs.
std::string colour(std::string_view name) {
  uint64_t h = 0xcbf2'9ce4'8422'2325;  // FNV-1a 64
  for (char c : name) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100'0000'01b3;
  }
  return "rgb(" + std::to_string(205 + h % 51) + "," + std::to_string((h >> 16) % 231) + "," +
         std::to_string((h >> 32) % 56) + ")";
}

// The label that fits `width` pixels: the name, or its start and "..", or
// nothing when not even two characters and the dots fit.
std::string label(std::string_view name, double width) {
  const size_t fits = width <= 6 ? 0 : static_cast<size_t>((width - 6) / kCharWidth);
  if (name.size() <= fits) return std::string(name);
  if (fits < 4) return "";
  return std::string(name.substr(0, fits - 2)) + "..";
}

class Writer {
 public:
  Writer(const FlameOptions& o, uint64_t total, size_t depth) : o_(o), total_(total), depth_(depth) {}

  double height() const { return kTop + static_cast<double>(depth_ + 1) * o_.frame_height + kBottom; }

  void frame(const std::string& name, const Node& n, double x, size_t level) {
    const double w = static_cast<double>(n.count) / static_cast<double>(total_) * (o_.width - 2 * kPad);
    if (w < o_.min_width) return;
    const double y = height() - kBottom - static_cast<double>(level + 1) * o_.frame_height;
    const std::string pct = num(100.0 * static_cast<double>(n.count) / static_cast<double>(total_));
    out_ += "<g><title>" + escape(name) + " (" + std::to_string(n.count) + " sample" + (n.count == 1 ? "" : "s") +
            ", " + pct + "%)</title>";
    out_ += "<rect x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"" + num(w) + "\" height=\"" +
            num(o_.frame_height - 1) + "\" fill=\"" + colour(name) + "\" rx=\"2\"/>";
    const std::string l = label(name, w);
    if (!l.empty())
      out_ += "<text x=\"" + num(x + 3) + "\" y=\"" + num(y + o_.frame_height - 4.5) + "\">" + escape(l) + "</text>";
    out_ += "</g>\n";
    double child_x = x;
    for (const auto& [child_name, child] : n.children) {
      frame(child_name, *child, child_x, level + 1);
      child_x += static_cast<double>(child->count) / static_cast<double>(total_) * (o_.width - 2 * kPad);
    }
  }

  std::string document(const Node& root) {
    std::string head = "<?xml version=\"1.0\" standalone=\"no\"?>\n";
    head += "<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(o_.width) + "\" height=\"" +
            num(height()) + "\" viewBox=\"0 0 " + num(o_.width) + " " + num(height()) + "\">\n";
    head += "<style>text { font-family: monospace; font-size: " + num(kFontSize) +
            "px; fill: #000; } rect:hover { stroke: #000; stroke-width: 0.5; }</style>\n";
    head += "<rect x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" fill=\"#f8f8f0\"/>\n";
    head += "<text x=\"" + num(o_.width / 2) + "\" y=\"18\" text-anchor=\"middle\" style=\"font-size: 16px\">" +
            escape(o_.title) + "</text>\n";
    head += "<text x=\"" + num(o_.width / 2) + "\" y=\"32\" text-anchor=\"middle\">" + std::to_string(total_) +
            " samples; hover over a frame for its count</text>\n";
    out_ = head;
    if (total_ > 0) frame("all", root, kPad, 0);
    out_ += "</svg>\n";
    return out_;
  }

 private:
  const FlameOptions& o_;
  uint64_t total_;
  size_t depth_;
  std::string out_;
};

}  // namespace

std::string flame_svg(const Folded& folded, const FlameOptions& options) {
  Node root;
  size_t depth = 0;
  for (const auto& [stack, count] : folded) {
    root.count += count;
    Node* n = &root;
    size_t level = 0, pos = 0;
    while (pos <= stack.size()) {
      size_t semi = stack.find(';', pos);
      if (semi == std::string::npos) semi = stack.size();
      std::unique_ptr<Node>& child = n->children[stack.substr(pos, semi - pos)];
      if (!child) child = std::make_unique<Node>();
      child->count += count;
      n = child.get();
      ++level;
      pos = semi + 1;
    }
    depth = std::max(depth, level);
  }
  Writer w(options, root.count, depth);
  return w.document(root);
}

}  // namespace profile
