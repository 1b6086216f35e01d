// Tests for ProtoWriter against the worked examples of [protobuf-enc]
// (varint 150, the "testing" string, a nested message, a packed field), the
// varint edges, buffering across the sink and a sink that cannot grow.
#include "src/prof/proto_writer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "src/prof/testing/proto_reader.h"

namespace prof {
namespace {

bool append_to_vector(void* ctx, const uint8_t* data, size_t n) {
  auto* v = static_cast<std::vector<uint8_t>*>(ctx);
  v->insert(v->end(), data, data + n);
  return true;
}
ByteSink vector_sink(std::vector<uint8_t>* v) { return ByteSink{v, append_to_vector}; }

template <typename F>
std::vector<uint8_t> encode(F f) {
  std::vector<uint8_t> out;
  ProtoWriter w(vector_sink(&out));
  f(w);
  EXPECT_TRUE(w.finish().ok());
  EXPECT_EQ(w.size(), out.size());
  return out;
}

using Bytes = std::vector<uint8_t>;

TEST(ProtoWriter, Varints) {
  EXPECT_EQ(encode([](ProtoWriter& w) { w.varint(0); }), (Bytes{0x00}));
  EXPECT_EQ(encode([](ProtoWriter& w) { w.varint(1); }), (Bytes{0x01}));
  EXPECT_EQ(encode([](ProtoWriter& w) { w.varint(127); }), (Bytes{0x7f}));
  EXPECT_EQ(encode([](ProtoWriter& w) { w.varint(128); }), (Bytes{0x80, 0x01}));
  EXPECT_EQ(encode([](ProtoWriter& w) { w.varint(150); }), (Bytes{0x96, 0x01}));
  EXPECT_EQ(encode([](ProtoWriter& w) { w.varint(300); }), (Bytes{0xac, 0x02}));
  EXPECT_EQ(encode([](ProtoWriter& w) { w.varint(~uint64_t{0}); }),
            (Bytes{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}));
}

// [protobuf-enc]: message Test1 { int32 a = 1; } with a = 150 is 08 96 01.
TEST(ProtoWriter, VarintField) {
  EXPECT_EQ(encode([](ProtoWriter& w) { w.uint_field(1, 150); }), (Bytes{0x08, 0x96, 0x01}));
  EXPECT_EQ(encode([](ProtoWriter& w) { w.uint_field(1, 0); }), Bytes{}) << "proto3 default omitted";
}

// [protobuf-enc] "Signed Integers": int64 -2 is ten bytes.
TEST(ProtoWriter, NegativeInt64TakesTenBytes) {
  EXPECT_EQ(encode([](ProtoWriter& w) { w.int_field(1, -2); }),
            (Bytes{0x08, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}));
}

// [protobuf-enc]: message Test2 { string b = 2; } with b = "testing".
TEST(ProtoWriter, StringField) {
  EXPECT_EQ(encode([](ProtoWriter& w) { w.bytes_field(2, "testing"); }),
            (Bytes{0x12, 0x07, 't', 'e', 's', 't', 'i', 'n', 'g'}));
  EXPECT_EQ(encode([](ProtoWriter& w) { w.bytes_field(6, ""); }), (Bytes{0x32, 0x00}))
      << "an empty string is still an element";
}

// [protobuf-enc]: message Test3 { Test1 c = 3; } with c.a = 150.
TEST(ProtoWriter, NestedMessage) {
  EXPECT_EQ(encode([](ProtoWriter& w) { w.message_field(3, [](ProtoWriter& m) { m.uint_field(1, 150); }); }),
            (Bytes{0x1a, 0x03, 0x08, 0x96, 0x01}));
  EXPECT_EQ(encode([](ProtoWriter& w) { w.message_field(3, [](ProtoWriter&) {}); }), (Bytes{0x1a, 0x00}))
      << "an empty message is still present";
}

// [protobuf-enc]: message Test5 { repeated int32 f = 6 [packed = true]; }
// with 3, 270, 86942 is 32 06 03 8e 02 9e a7 05.
TEST(ProtoWriter, PackedField) {
  EXPECT_EQ(encode([](ProtoWriter& w) {
              w.packed_field(6, [](ProtoWriter& p) {
                p.varint(3);
                p.varint(270);
                p.varint(86942);
              });
            }),
            (Bytes{0x32, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05}));
  EXPECT_EQ(encode([](ProtoWriter& w) { w.packed_field(6, [](ProtoWriter&) {}); }), Bytes{});
}

// More than the internal buffer, mixing buffered varints and direct strings:
// the bytes arrive in order and parse back.
TEST(ProtoWriter, LongOutputKeepsOrder) {
  const std::string big(1000, 'x');
  const Bytes out = encode([&](ProtoWriter& w) {
    for (uint64_t i = 1; i <= 300; ++i) w.uint_field(1, i * 1000);
    w.bytes_field(2, base::StrView(big.data(), big.size()));
    w.uint_field(3, 7);
  });
  const auto fields = testing::parse_message(std::string_view(reinterpret_cast<const char*>(out.data()), out.size()));
  ASSERT_TRUE(fields.has_value());
  ASSERT_EQ(fields->size(), 302u);
  for (uint64_t i = 0; i < 300; ++i) EXPECT_EQ((*fields)[i].varint, (i + 1) * 1000);
  EXPECT_EQ((*fields)[300].bytes, big);
  EXPECT_EQ((*fields)[301].varint, 7u);
}

TEST(ProtoWriter, SinkFailureIsReported) {
  int calls = 0;
  ByteSink refuse{&calls, [](void* ctx, const uint8_t*, size_t) {
                    ++*static_cast<int*>(ctx);
                    return false;
                  }};
  ProtoWriter w(refuse);
  w.uint_field(1, 1);
  w.bytes_field(2, "abc");
  w.uint_field(3, 1);
  EXPECT_EQ(w.finish().error(), base::Error::kOutOfMemory);
  EXPECT_EQ(calls, 1) << "no more appends after the first refusal";
}

}  // namespace
}  // namespace prof
