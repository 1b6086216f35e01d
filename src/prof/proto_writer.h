// ProtoWriter: the protocol buffers wire format, just what pprof's
// profile.proto needs -- varints, length-delimited bytes, nested messages and
// packed repeated varints -- written to a caller's growable ByteSink. No
// allocation: a nested message is measured by running its body once with a
// counting writer, then written for real, so no length is ever patched.
//
// Thread context (it calls the sink, which may allocate); not for NMI.
#pragma once

#include "src/base/result.h"
#include "src/base/str.h"
#include "src/base/types.h"

namespace prof {

/// A growable byte buffer owned by the caller: the kernel backs it with
/// kmalloc, host tests with std::vector. A function pointer rather than a
/// virtual class: the kernel is built without vtable support code.
struct ByteSink {
  void* ctx = nullptr;
  /// Appends `n` bytes; false when the buffer cannot grow.
  bool (*append)(void* ctx, const uint8_t* data, size_t n) = nullptr;
};

/// [protobuf-enc] "Message Structure": the wire types used here.
enum class WireType : uint8_t { kVarint = 0, kLen = 2 };

class ProtoWriter {
 public:
  /// A writer that only counts the bytes it would write.
  static ProtoWriter counting() { return ProtoWriter(ByteSink{}, true); }
  explicit ProtoWriter(ByteSink sink) : ProtoWriter(sink, false) {}

  ProtoWriter(const ProtoWriter&) = delete;
  ProtoWriter& operator=(const ProtoWriter&) = delete;

  /// Bytes written (or counted) so far.
  size_t size() const { return size_; }

  /// [protobuf-enc] "Base 128 Varints": 7 bits a byte, low group first, the
  /// top bit set on every byte but the last.
  void varint(uint64_t v) {
    while (v >= 0x80) {
      byte(static_cast<uint8_t>(v | 0x80));
      v >>= 7;
    }
    byte(static_cast<uint8_t>(v));
  }

  /// [protobuf-enc] "Message Structure": a tag is (field_number << 3) | wire_type.
  void tag(uint32_t field, WireType t) { varint((uint64_t{field} << 3) | static_cast<uint8_t>(t)); }

  /// A uint64 field. [protobuf-enc] "Signed Integers": an int64 is the same
  /// varint of its two's-complement bits (so a negative one takes 10 bytes);
  /// pass it cast. proto3 omits a scalar equal to its default, 0.
  void uint_field(uint32_t field, uint64_t v) {
    if (v == 0) return;
    tag(field, WireType::kVarint);
    varint(v);
  }
  void int_field(uint32_t field, int64_t v) { uint_field(field, static_cast<uint64_t>(v)); }
  void bool_field(uint32_t field, bool v) { uint_field(field, v ? 1 : 0); }

  /// [protobuf-enc] "Length-Delimited Records": tag, varint length, bytes.
  /// Written even when empty: a repeated string's "" is an element.
  void bytes_field(uint32_t field, base::StrView s) {
    tag(field, WireType::kLen);
    varint(s.size());
    raw(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }

  /// An embedded message: `body(ProtoWriter&)` writes its fields, and is
  /// called twice (once to measure).
  template <typename Body>
  void message_field(uint32_t field, Body body) {
    ProtoWriter measure = counting();
    body(measure);
    tag(field, WireType::kLen);
    varint(measure.size());
    body(*this);
  }

  /// [protobuf-enc] "Packed Repeated Fields": one length-delimited record of
  /// back-to-back varints; `body` calls varint() once per element. Nothing is
  /// written for no elements (an empty packed field is the default).
  template <typename Body>
  void packed_field(uint32_t field, Body body) {
    ProtoWriter measure = counting();
    body(measure);
    if (measure.size() == 0) return;
    tag(field, WireType::kLen);
    varint(measure.size());
    body(*this);
  }

  /// Hands any buffered bytes to the sink. kOutOfMemory if any append failed
  /// (later writes after a failure are dropped, so the caller checks once).
  base::Status finish() {
    flush();
    if (failed_) return base::Error::kOutOfMemory;
    return base::Status::Ok();
  }

 private:
  ProtoWriter(ByteSink sink, bool counting) : sink_(sink), counting_(counting) {}

  void byte(uint8_t b) {
    ++size_;
    if (counting_) return;
    if (buffered_ == sizeof(buf_)) flush();
    buf_[buffered_++] = b;
  }
  void raw(const uint8_t* p, size_t n) {
    size_ += n;
    if (counting_ || n == 0) return;
    flush();
    if (!failed_ && !sink_.append(sink_.ctx, p, n)) failed_ = true;
  }
  void flush() {
    if (counting_ || buffered_ == 0) return;
    if (!failed_ && !sink_.append(sink_.ctx, buf_, buffered_)) failed_ = true;
    buffered_ = 0;
  }

  ByteSink sink_;
  bool counting_;
  bool failed_ = false;
  size_t size_ = 0;
  // Varints go through this buffer so the sink is called per few hundred
  // bytes, not per byte.
  size_t buffered_ = 0;
  uint8_t buf_[256];
};

}  // namespace prof
