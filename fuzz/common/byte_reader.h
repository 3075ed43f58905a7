// Reads a fuzz input as a stream of small integers; past the end it yields
// zeros, so every input decodes to something.
#ifndef RINGCHECK_FUZZ_COMMON_BYTE_READER_H_
#define RINGCHECK_FUZZ_COMMON_BYTE_READER_H_

#include <cstddef>
#include <cstdint>

namespace ringcheck::fuzz {

class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : p_(data), end_(data + size) {}
  bool empty() const { return p_ >= end_; }
  size_t left() const { return empty() ? 0 : static_cast<size_t>(end_ - p_); }
  uint8_t U8() { return empty() ? 0 : *p_++; }
  uint16_t U16() { return static_cast<uint16_t>(U8() | (U8() << 8)); }
  uint32_t U32() { return U16() | (static_cast<uint32_t>(U16()) << 16); }
  uint64_t U64() { return U32() | (static_cast<uint64_t>(U32()) << 32); }
  // One of `n` choices (n > 0).
  uint32_t Below(uint32_t n) { return U8() % n; }
  template <typename T, size_t N>
  T Pick(const T (&table)[N]) { return table[U8() % N]; }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

}  // namespace ringcheck::fuzz

#endif  // RINGCHECK_FUZZ_COMMON_BYTE_READER_H_
