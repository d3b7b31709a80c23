// Reads pcapng and classic pcap files into frames, with timestamps converted as Wireshark converts them.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "capture_file.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string_view>

namespace diag503::test {
namespace {

constexpr std::uint32_t kPcapngSection = 0x0A0D0D0A;
constexpr std::uint32_t kPcapngInterface = 1, kPcapngSimplePacket = 3, kPcapngEnhancedPacket = 6;
constexpr std::uint32_t kPcapngByteOrderMagic = 0x1A2B3C4D;
constexpr std::uint16_t kOptionEnd = 0, kOptionTsResolution = 9, kOptionTsOffset = 14;
constexpr std::uint32_t kPcapMicroseconds = 0xA1B2C3D4, kPcapNanoseconds = 0xA1B23C4D;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
    throw std::runtime_error(path + ": " + what);
}

// Little- or big-endian integers at an offset of a byte string.
struct Reader {
    std::string_view bytes;
    bool big_endian = false;

    std::uint64_t number(std::size_t offset, int size) const {
        if (offset + size > bytes.size()) throw std::out_of_range("read past the end of a block");
        std::uint64_t value = 0;
        for (int i = 0; i < size; ++i) {
            const auto byte = static_cast<std::uint8_t>(bytes[offset + (big_endian ? i : size - 1 - i)]);
            value = (value << 8) | byte;
        }
        return value;
    }
    std::uint16_t u16(std::size_t offset) const { return static_cast<std::uint16_t>(number(offset, 2)); }
    std::uint32_t u32(std::size_t offset) const { return static_cast<std::uint32_t>(number(offset, 4)); }
};

struct Interface {
    std::uint32_t link_type = 0;
    std::uint32_t snap_length = 0;
    std::uint64_t units_per_second = 1000000;  // if_tsresol; microseconds unless the option says otherwise
    std::int64_t offset_seconds = 0;           // if_tsoffset
};

// Wireshark's conversion: whole seconds, then the remainder scaled to nanoseconds; the plugin then
// keeps whole microseconds.
std::int64_t time_us_of(std::uint64_t stamp, const Interface& interface) {
    const std::uint64_t units = interface.units_per_second;
    const auto seconds = static_cast<std::int64_t>(stamp / units) + interface.offset_seconds;
    const auto nanoseconds = static_cast<std::int64_t>((stamp % units) * 1000000000ULL / units);
    return seconds * 1000000 + nanoseconds / 1000;
}

std::uint64_t resolution_units(std::uint8_t tsresol) {
    const unsigned exponent = tsresol & 0x7F;
    const std::uint64_t base = (tsresol & 0x80) ? 2 : 10;
    std::uint64_t units = 1;
    for (unsigned i = 0; i < exponent && units <= 1000000000ULL; ++i) units *= base;
    return units;
}

Interface read_interface(const Reader& block, std::size_t body_end) {
    Interface interface;
    interface.link_type = block.u16(8);
    interface.snap_length = block.u32(12);
    for (std::size_t option = 16; option + 4 <= body_end;) {
        const std::uint16_t code = block.u16(option);
        const std::uint16_t length = block.u16(option + 2);
        if (code == kOptionEnd) break;
        if (code == kOptionTsResolution && length >= 1)
            interface.units_per_second = resolution_units(static_cast<std::uint8_t>(block.bytes[option + 4]));
        if (code == kOptionTsOffset && length >= 8)
            interface.offset_seconds = static_cast<std::int64_t>(block.number(option + 4, 8));
        option += 4 + ((length + 3u) & ~3u);
    }
    return interface;
}

std::vector<CapturedFrame> read_pcapng(const std::string& path, std::string_view file) {
    std::vector<CapturedFrame> frames;
    std::vector<Interface> interfaces;
    Reader reader{file};
    for (std::size_t at = 0; at + 12 <= file.size();) {
        if (Reader{file}.u32(at) == kPcapngSection) {  // the type reads the same in both byte orders
            const std::uint32_t magic = Reader{file}.u32(at + 8);
            if (magic != kPcapngByteOrderMagic && Reader{file, true}.u32(at + 8) != kPcapngByteOrderMagic)
                fail(path, "pcapng section without its byte-order magic");
            reader.big_endian = magic != kPcapngByteOrderMagic;
            interfaces.clear();  // interface ids are per section
        }
        const std::uint32_t type = reader.u32(at);
        const std::uint32_t length = reader.u32(at + 4);
        if (length < 12 || length % 4 != 0 || at + length > file.size()) fail(path, "pcapng block with a bad length");
        const Reader block{file.substr(at, length), reader.big_endian};
        const std::size_t body_end = length - 4;  // the trailing copy of the length
        if (type == kPcapngInterface) {
            interfaces.push_back(read_interface(block, body_end));
        } else if (type == kPcapngEnhancedPacket) {
            const std::uint32_t id = block.u32(8);
            if (id >= interfaces.size()) fail(path, "packet of an undescribed interface");
            const std::uint64_t stamp = (std::uint64_t{block.u32(12)} << 32) | block.u32(16);
            const std::uint32_t captured = block.u32(20);
            if (28 + std::size_t{captured} > body_end) fail(path, "packet longer than its block");
            CapturedFrame frame;
            frame.time_us = time_us_of(stamp, interfaces[id]);
            frame.link_type = interfaces[id].link_type;
            frame.bytes = std::string(block.bytes.substr(28, captured));
            frame.original_length = block.u32(24);
            frames.push_back(std::move(frame));
        } else if (type == kPcapngSimplePacket) {
            if (interfaces.empty()) fail(path, "simple packet before any interface");
            CapturedFrame frame;  // no timestamp: Wireshark shows it as zero
            frame.original_length = block.u32(8);
            std::size_t captured = std::min<std::size_t>(frame.original_length, body_end - 12);
            if (interfaces[0].snap_length != 0) captured = std::min<std::size_t>(captured, interfaces[0].snap_length);
            frame.link_type = interfaces[0].link_type;
            frame.bytes = std::string(block.bytes.substr(12, captured));
            frames.push_back(std::move(frame));
        }
        at += length;
    }
    return frames;
}

std::vector<CapturedFrame> read_pcap(const std::string& path, std::string_view file) {
    if (file.size() < 24) fail(path, "pcap file shorter than its header");
    Reader reader{file};
    std::uint32_t magic = reader.u32(0);
    if (magic != kPcapMicroseconds && magic != kPcapNanoseconds) {
        reader.big_endian = true;
        magic = reader.u32(0);
    }
    const std::uint64_t units = magic == kPcapNanoseconds ? 1000000000ULL : 1000000ULL;
    const Interface interface{reader.u32(20) & 0x0FFFFFFF, reader.u32(16), units, 0};
    std::vector<CapturedFrame> frames;
    for (std::size_t at = 24; at + 16 <= file.size();) {
        const std::uint32_t captured = reader.u32(at + 8);
        if (at + 16 + captured > file.size()) fail(path, "pcap record longer than the file");
        CapturedFrame frame;
        frame.time_us = time_us_of(std::uint64_t{reader.u32(at)} * units + reader.u32(at + 4), interface);
        frame.link_type = interface.link_type;
        frame.bytes = std::string(file.substr(at + 16, captured));
        frame.original_length = reader.u32(at + 12);
        frames.push_back(std::move(frame));
        at += 16 + captured;
    }
    return frames;
}

}  // namespace

std::vector<CapturedFrame> read_capture_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(path, "cannot open");
    const std::string file{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (file.size() < 4) fail(path, "too short to be a capture");
    const std::uint32_t first = Reader{file}.u32(0);
    const bool classic = first == kPcapMicroseconds || first == kPcapNanoseconds ||
                         Reader{file, true}.u32(0) == kPcapMicroseconds || Reader{file, true}.u32(0) == kPcapNanoseconds;
    if (!classic && first != kPcapngSection) fail(path, "neither pcapng nor pcap");
    std::vector<CapturedFrame> frames = classic ? read_pcap(path, file) : read_pcapng(path, file);
    for (std::size_t i = 0; i < frames.size(); ++i) frames[i].number = static_cast<std::uint32_t>(i + 1);
    return frames;
}

}  // namespace diag503::test
