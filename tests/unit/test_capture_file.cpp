// The test capture reader: pcapng and classic pcap in either byte order give Wireshark's frame numbers, times and lengths.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include "capture_file.hpp"

namespace {

using diag503::test::read_capture_file;

// Builds a capture file's bytes in one byte order.
struct Bytes {
    bool big_endian = false;
    std::string data;

    Bytes& number(std::uint64_t value, int size) {
        for (int i = 0; i < size; ++i) {
            const int shift = 8 * (big_endian ? size - 1 - i : i);
            data += static_cast<char>((value >> shift) & 0xFF);
        }
        return *this;
    }
    Bytes& u16(std::uint16_t value) { return number(value, 2); }
    Bytes& u32(std::uint32_t value) { return number(value, 4); }
    Bytes& text(const std::string& value) {
        data += value;
        return *this;
    }
};

// A pcapng block: type, length, body padded to 32 bits, length again.
void block(Bytes& file, std::uint32_t type, const std::string& body) {
    std::string padded = body;
    padded.resize((body.size() + 3) & ~std::size_t{3}, '\0');
    const auto length = static_cast<std::uint32_t>(12 + padded.size());
    file.u32(type).u32(length).text(padded).u32(length);
}

// Reads `bytes` back through a temporary file, removed afterwards.
std::vector<diag503::test::CapturedFrame> frames_of(const std::string& name, const std::string& bytes) {
    const auto path = std::filesystem::temp_directory_path() / ("diag503-" + std::to_string(::getpid()) + "-" + name);
    std::ofstream(path, std::ios::binary) << bytes;
    struct Remove {
        std::filesystem::path path;
        ~Remove() { std::filesystem::remove(path); }
    } remove{path};
    return read_capture_file(path.string());
}

std::string pcapng(bool big_endian) {
    Bytes file{big_endian, {}};
    Bytes section{big_endian, {}};
    section.u32(0x1A2B3C4D).u16(1).u16(0).number(0xFFFFFFFFFFFFFFFFULL, 8);
    block(file, 0x0A0D0D0A, section.data);
    Bytes interface{big_endian, {}};  // Linux cooked capture, nanosecond stamps (if_tsresol 9)
    interface.u16(113).u16(0).u32(0).u16(9).u16(1).text(std::string("\x09\0\0\0", 4)).u16(0).u16(0);
    block(file, 1, interface.data);
    Bytes packet{big_endian, {}};  // 1700000000.123456789 s, 5 of 8 bytes kept
    const std::uint64_t stamp = 1700000000ULL * 1000000000ULL + 123456789ULL;
    packet.u32(0).u32(static_cast<std::uint32_t>(stamp >> 32)).u32(static_cast<std::uint32_t>(stamp)).u32(5).u32(8).text("hello");
    block(file, 6, packet.data);
    Bytes simple{big_endian, {}};
    simple.u32(3).text("abc");
    block(file, 3, simple.data);
    return file.data;
}

std::string pcap(bool big_endian, bool nanoseconds) {
    Bytes file{big_endian, {}};
    file.u32(nanoseconds ? 0xA1B23C4D : 0xA1B2C3D4).u16(2).u16(4).u32(0).u32(0).u32(65535).u32(1);
    file.u32(1700000000).u32(nanoseconds ? 123456789 : 123456).u32(4).u32(4).text("ping");
    file.u32(1700000001).u32(0).u32(2).u32(60).text("po");
    return file.data;
}

TEST(CaptureFile, ReadsPcapngEnhancedAndSimplePacketsInEitherByteOrder) {
    for (bool big_endian : {false, true}) {
        const auto frames = frames_of("order.pcapng", pcapng(big_endian));
        ASSERT_EQ(frames.size(), 2u) << "big endian: " << big_endian;
        EXPECT_EQ(frames[0].number, 1u);
        EXPECT_EQ(frames[0].link_type, 113u);
        EXPECT_EQ(frames[0].bytes, "hello");
        EXPECT_EQ(frames[1].number, 2u);
        EXPECT_EQ(frames[1].bytes, "abc");
        EXPECT_EQ(frames[1].original_length, 3u);
    }
}

TEST(CaptureFile, TakesPcapngTimesInTheInterfaceResolutionAndKeepsWholeMicroseconds) {
    const auto frames = frames_of("time.pcapng", pcapng(false));
    ASSERT_FALSE(frames.empty());
    EXPECT_EQ(frames[0].time_us, 1700000000123456LL);
}

TEST(CaptureFile, KnowsAFrameTheCaptureCutShortByItsOriginalLength) {
    const auto frames = frames_of("cut.pcapng", pcapng(true));
    ASSERT_FALSE(frames.empty());
    EXPECT_EQ(frames[0].bytes.size(), 5u);
    EXPECT_EQ(frames[0].original_length, 8u);
}

TEST(CaptureFile, ReadsClassicPcapWithMicroOrNanosecondStampsInEitherByteOrder) {
    for (bool big_endian : {false, true})
        for (bool nanoseconds : {false, true}) {
            const auto frames = frames_of("classic.pcap", pcap(big_endian, nanoseconds));
            ASSERT_EQ(frames.size(), 2u) << big_endian << nanoseconds;
            EXPECT_EQ(frames[0].time_us, 1700000000123456LL);
            EXPECT_EQ(frames[0].bytes, "ping");
            EXPECT_EQ(frames[0].link_type, 1u);
            EXPECT_EQ(frames[1].number, 2u);
            EXPECT_EQ(frames[1].time_us, 1700000001000000LL);
            EXPECT_EQ(frames[1].original_length, 60u);
        }
}

TEST(CaptureFile, RefusesAFileThatIsNeitherPcapngNorPcap) {
    EXPECT_THROW(frames_of("text.pcap", "not a capture at all"), std::runtime_error);
}

}  // namespace
