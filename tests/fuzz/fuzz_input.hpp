// Shared by the libFuzzer targets: a front-to-back reader of the fuzz input and a check that aborts loudly.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace diag503::fuzz {

// A broken invariant is a finding like a crash: print it and abort, so that libFuzzer keeps the input.
[[noreturn]] inline void check_failed(const char* condition, const char* file, int line) {
    std::fprintf(stderr, "FUZZ CHECK FAILED: %s at %s:%d\n", condition, file, line);
    std::abort();
}

#define FUZZ_CHECK(condition) \
    ((condition) ? static_cast<void>(0) : ::diag503::fuzz::check_failed(#condition, __FILE__, __LINE__))

// Reads the input from the front: fixed-size fields, length-prefixed chunks, then whatever is left.
// Past the end it reads zeros and empty chunks, so every input decodes to something.
class ByteReader {
public:
    ByteReader(const std::uint8_t* data, std::size_t size) : bytes_(reinterpret_cast<const char*>(data), size) {}

    bool empty() const { return bytes_.empty(); }

    std::uint8_t u8() {
        if (bytes_.empty()) return 0;
        const auto value = static_cast<std::uint8_t>(bytes_.front());
        bytes_.remove_prefix(1);
        return value;
    }

    std::uint16_t be16() {
        const std::uint16_t high = u8();
        return static_cast<std::uint16_t>(high << 8 | u8());
    }

    // The next `length` bytes, or as many as are left.
    std::string_view take(std::size_t length) {
        const std::string_view taken = bytes_.substr(0, std::min(length, bytes_.size()));
        bytes_.remove_prefix(taken.size());
        return taken;
    }

    // A chunk of a 16-bit big-endian length followed by its bytes.
    std::string_view chunk() { return take(be16()); }

    std::string_view rest() { return take(bytes_.size()); }

private:
    std::string_view bytes_;
};

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

}  // namespace diag503::fuzz
