// Tolerant SDP reader for RTSP DESCRIBE answers, with an H.264 SPS decoder for the picture size; never throws.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "rtsp/sdp.hpp"

#include <cmath>
#include <utility>

#include "core/text.hpp"

namespace diag503 {
namespace {

constexpr std::size_t kMaxSpropText = 4096;           // bytes of sprop-parameter-sets read
constexpr std::uint64_t kMaxMacroblocksPerSide = 2048;  // 32768 pixels; beyond any H.264 level

std::string stored(std::string_view text) { return printable(trim(text), kMaxSdpText); }

std::string_view next_line(std::string_view& text) {
    const auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    return trim(line);
}

// The next space-separated word of `text`, which moves past it.
std::string_view next_word(std::string_view& text) {
    text = trim(text);
    const auto end = text.find_first_of(" \t");
    const std::string_view word = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end);
    return word;
}

std::optional<std::uint32_t> whole_number(std::string_view text) {
    const auto number = parse_decimal(text);
    if (!number || number->overflowed || number->value > 0xffffffffu) return std::nullopt;
    return static_cast<std::uint32_t>(number->value);
}

// ---- base64 and the H.264 sequence parameter set ----

int base64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

// NAL unit payload -> RBSP: drops the emulation prevention byte of every 00 00 03 (H.264 §7.4.1).
std::string rbsp_of(std::string_view payload) {
    std::string rbsp;
    rbsp.reserve(payload.size());
    int zeros = 0;
    for (char c : payload) {
        const auto byte = static_cast<unsigned char>(c);
        if (zeros >= 2 && byte == 3) {
            zeros = 0;
            continue;
        }
        zeros = byte == 0 ? zeros + 1 : 0;
        rbsp.push_back(c);
    }
    return rbsp;
}

// Reads bits, ue(v) and se(v) (H.264 §9.1); past the end it reads zeros and remembers that it failed.
class BitReader {
public:
    explicit BitReader(std::string bytes) : bytes_(std::move(bytes)) {}

    bool failed() const { return failed_; }

    std::uint32_t bit() {
        if (position_ >= bytes_.size() * 8) {
            failed_ = true;
            return 0;
        }
        const auto byte = static_cast<unsigned char>(bytes_[position_ / 8]);
        const std::uint32_t value = (byte >> (7 - position_ % 8)) & 1u;
        ++position_;
        return value;
    }

    std::uint32_t bits(int count) {
        std::uint32_t value = 0;
        for (int i = 0; i < count; ++i) value = (value << 1) | bit();
        return value;
    }

    std::uint32_t ue() {
        int leading_zeros = 0;
        while (!failed_ && bit() == 0)
            if (++leading_zeros > 31) failed_ = true;
        if (failed_) return 0;
        return static_cast<std::uint32_t>((std::uint64_t{1} << leading_zeros) - 1 + bits(leading_zeros));
    }

    std::int64_t se() {
        const std::int64_t k = ue();
        return (k % 2 == 1) ? (k + 1) / 2 : -(k / 2);
    }

private:
    std::string bytes_;
    std::size_t position_ = 0;
    bool failed_ = false;
};

// Profiles whose SPS carries chroma_format_idc, bit depths and scaling matrices (H.264 §7.3.2.1.1).
bool has_chroma_format_fields(std::uint32_t profile_idc) {
    for (std::uint32_t high : {100u, 110u, 122u, 244u, 44u, 83u, 86u, 118u, 128u, 138u, 139u, 134u, 135u})
        if (profile_idc == high) return true;
    return false;
}

void skip_scaling_list(BitReader& reader, int size) {
    std::int64_t last_scale = 8;
    std::int64_t next_scale = 8;
    for (int j = 0; j < size && !reader.failed(); ++j) {
        if (next_scale != 0) next_scale = ((last_scale + reader.se()) % 256 + 256) % 256;
        if (next_scale != 0) last_scale = next_scale;
    }
}

struct ChromaFormat {
    std::uint32_t idc = 1;  // 4:2:0 when the profile does not say
    bool separate_colour_planes = false;
};

ChromaFormat read_chroma_format(BitReader& reader, std::uint32_t profile_idc) {
    ChromaFormat format;
    if (!has_chroma_format_fields(profile_idc)) return format;
    format.idc = reader.ue();
    if (format.idc == 3) format.separate_colour_planes = reader.bit() == 1;
    reader.ue();   // bit_depth_luma_minus8
    reader.ue();   // bit_depth_chroma_minus8
    reader.bit();  // qpprime_y_zero_transform_bypass_flag
    if (reader.bit() == 0) return format;  // seq_scaling_matrix_present_flag
    const int lists = format.idc == 3 ? 12 : 8;
    for (int i = 0; i < lists && !reader.failed(); ++i)
        if (reader.bit() == 1) skip_scaling_list(reader, i < 6 ? 16 : 64);
    return format;
}

// log2_max_frame_num_minus4 up to gaps_in_frame_num_value_allowed_flag.
void skip_frame_numbering(BitReader& reader) {
    reader.ue();  // log2_max_frame_num_minus4
    const auto pic_order_cnt_type = reader.ue();
    if (pic_order_cnt_type == 0) reader.ue();  // log2_max_pic_order_cnt_lsb_minus4
    if (pic_order_cnt_type == 1) {
        reader.bit();  // delta_pic_order_always_zero_flag
        reader.se();   // offset_for_non_ref_pic
        reader.se();   // offset_for_top_to_bottom_field
        const auto cycle = reader.ue();
        for (std::uint32_t i = 0; i < cycle && !reader.failed(); ++i) reader.se();
    }
    reader.ue();   // max_num_ref_frames
    reader.bit();  // gaps_in_frame_num_value_allowed_flag
}

struct CodedPicture {
    std::uint64_t width_in_mbs = 0;
    std::uint64_t height_in_map_units = 0;
    bool frame_mbs_only = true;
    std::uint64_t crop[4] = {0, 0, 0, 0};  // left, right, top, bottom, in crop units
};

// Frame size after cropping (H.264 §7.4.2.1.1, CropUnitX/CropUnitY).
std::optional<VideoDimensions> cropped_dimensions(const CodedPicture& picture, const ChromaFormat& chroma) {
    if (picture.width_in_mbs > kMaxMacroblocksPerSide || picture.height_in_map_units > kMaxMacroblocksPerSide)
        return std::nullopt;
    const std::uint64_t field_factor = picture.frame_mbs_only ? 1 : 2;
    const std::uint32_t chroma_array_type = chroma.separate_colour_planes ? 0 : chroma.idc;
    const std::uint64_t crop_unit_x = (chroma_array_type == 1 || chroma_array_type == 2) ? 2 : 1;
    const std::uint64_t crop_unit_y = (chroma_array_type == 1 ? 2 : 1) * field_factor;
    const std::uint64_t width = picture.width_in_mbs * 16;
    const std::uint64_t height = picture.height_in_map_units * 16 * field_factor;
    const std::uint64_t cut_x = crop_unit_x * (picture.crop[0] + picture.crop[1]);
    const std::uint64_t cut_y = crop_unit_y * (picture.crop[2] + picture.crop[3]);
    if (cut_x >= width || cut_y >= height) return std::nullopt;
    return VideoDimensions{static_cast<std::uint32_t>(width - cut_x), static_cast<std::uint32_t>(height - cut_y)};
}

// ---- SDP lines ----

// RFC 3551 §6 static payload types, for m= lines without an a=rtpmap.
struct StaticPayload {
    std::string_view type;
    std::string_view codec;
    std::uint32_t clock_rate;
};
constexpr StaticPayload kStaticPayloads[] = {
    {"0", "PCMU", 8000},   {"3", "GSM", 8000},     {"4", "G723", 8000},   {"8", "PCMA", 8000},
    {"9", "G722", 8000},   {"14", "MPA", 90000},   {"18", "G729", 8000},  {"26", "JPEG", 90000},
    {"31", "H261", 90000}, {"32", "MPV", 90000},   {"33", "MP2T", 90000}, {"34", "H263", 90000},
};

// "25", "29.97", "25.000000" -> the rate; nullopt for anything else.
std::optional<double> parse_rate(std::string_view text) {
    text = trim(text);
    const auto dot = text.find('.');
    const auto whole = whole_number(text.substr(0, dot));
    if (!whole) return std::nullopt;
    double rate = *whole;
    const auto fraction = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
    double scale = 0.1;
    for (char c : fraction) {
        if (c < '0' || c > '9') return std::nullopt;
        rate += (c - '0') * scale;
        scale /= 10;
    }
    return rate;
}

// 15 -> "15", 29.97 -> "29.97": at most three decimals, no trailing zeros.
std::string format_rate(double rate) {
    const auto thousandths = static_cast<std::uint64_t>(std::llround(rate * 1000));
    std::string text = std::to_string(thousandths / 1000);
    if (thousandths % 1000 == 0) return text;
    std::string fraction = std::to_string(1000 + thousandths % 1000).substr(1);
    while (fraction.back() == '0') fraction.pop_back();
    return text + "." + fraction;
}

std::optional<VideoDimensions> parse_dimensions(std::string_view text) {
    const auto comma = text.find(',');
    if (comma == std::string_view::npos) return std::nullopt;
    const auto width = whole_number(text.substr(0, comma));
    const auto height = whole_number(text.substr(comma + 1));
    if (!width || !height || *width == 0 || *height == 0 || *width > 65535 || *height > 65535) return std::nullopt;
    return VideoDimensions{*width, *height};
}

// The media section being read, with what is only used once it is complete.
struct Section {
    SdpMedia media;
    std::string sprop_parameter_sets;
    std::string profile_level_id;  // kept for H.264 only: MPEG-4 audio has a profile-level-id of its own
    bool has_rtpmap = false;
};

// "96 H264/90000" for the section's first payload type.
void read_rtpmap(std::string_view value, Section& section) {
    if (section.has_rtpmap || next_word(value) != section.media.payload_type) return;
    const auto encoding = next_word(value);
    const auto slash = encoding.find('/');
    section.has_rtpmap = true;
    section.media.codec = stored(encoding.substr(0, slash));
    if (slash != std::string_view::npos) {
        const auto rate = encoding.substr(slash + 1);
        section.media.clock_rate = whole_number(rate.substr(0, rate.find('/')));
    }
}

// "96 packetization-mode=1;profile-level-id=42e01f;sprop-parameter-sets=Z0Lg...,aM4..."
void read_fmtp(std::string_view value, Section& section) {
    if (next_word(value) != section.media.payload_type) return;
    if (auto profile = find_parameter(value, "profile-level-id")) section.profile_level_id = stored(*profile);
    if (auto sets = find_parameter(value, "sprop-parameter-sets"))
        section.sprop_parameter_sets = std::string(sets->substr(0, kMaxSpropText));
}

void read_media_attribute(std::string_view name, std::string_view value, Section& section) {
    if (iequals(name, "rtpmap")) read_rtpmap(value, section);
    else if (iequals(name, "fmtp")) read_fmtp(value, section);
    else if (iequals(name, "framerate") || iequals(name, "x-framerate")) section.media.framerate = parse_rate(value);
    else if (iequals(name, "x-dimensions")) section.media.declared_dimensions = parse_dimensions(value);
    else if (iequals(name, "control")) section.media.control = stored(value);
}

std::optional<VideoDimensions> sps_dimensions_of(std::string_view sprop_parameter_sets) {
    for (std::string_view item : split_top_level(sprop_parameter_sets, ',')) {
        const auto nal_unit = decode_base64(item);
        if (nal_unit && !nal_unit->empty() && ((*nal_unit)[0] & 0x1f) == 7) return h264_sps_dimensions(*nal_unit);
    }
    return std::nullopt;
}

std::string summary_of(const SdpMedia& media) {
    std::string summary = media.codec.empty() ? media.type + " payload " + media.payload_type : media.codec;
    if (const auto size = media.dimensions())
        summary += " " + std::to_string(size->width) + "x" + std::to_string(size->height);
    if (media.framerate) summary += " " + format_rate(*media.framerate) + "fps";
    if (media.type == "audio" && media.clock_rate) summary += " " + std::to_string(*media.clock_rate) + "Hz";
    return stored(summary);
}

SdpMedia finished(Section section) {
    SdpMedia& media = section.media;
    for (const StaticPayload& payload : kStaticPayloads) {
        if (section.has_rtpmap || payload.type != media.payload_type) continue;
        media.codec = std::string(payload.codec);
        media.clock_rate = payload.clock_rate;
    }
    if (iequals(media.codec, "H264")) {
        media.profile_level_id = std::move(section.profile_level_id);
        media.sps_dimensions = sps_dimensions_of(section.sprop_parameter_sets);
    }
    media.summary = summary_of(media);
    return std::move(media);
}

// Collects media sections as the lines come.
class SdpReader {
public:
    void media_line(std::string_view value) {
        finish_section();
        const auto type = next_word(value);
        if (!iequals(type, "video") && !iequals(type, "audio")) return;
        if (summary_.media.size() >= kMaxSdpMedia) {
            summary_.media_truncated = true;
            return;
        }
        next_word(value);  // port
        next_word(value);  // protocol
        section_.emplace();
        section_->media.type = stored(type);
        section_->media.payload_type = stored(next_word(value));
    }

    void attribute_line(std::string_view attribute) {
        const auto colon = attribute.find(':');
        const auto name = trim(attribute.substr(0, colon));
        const auto value = colon == std::string_view::npos ? std::string_view{} : trim(attribute.substr(colon + 1));
        if (section_) read_media_attribute(name, value, *section_);
        else if (!in_media_ && iequals(name, "control")) summary_.control = stored(value);
    }

    SdpSummary result() && {
        finish_section();
        for (const SdpMedia& media : summary_.media)
            summary_.text += (summary_.text.empty() ? "" : ", ") + media.summary;
        summary_.text = stored(summary_.text);
        return std::move(summary_);
    }

private:
    void finish_section() {
        if (section_) summary_.media.push_back(finished(std::move(*section_)));
        section_.reset();
        in_media_ = true;
    }

    SdpSummary summary_;
    std::optional<Section> section_;  // the video or audio section being read
    bool in_media_ = false;           // past the first m= line: attributes no longer belong to the session
};

}  // namespace

std::optional<std::string> decode_base64(std::string_view text) {
    text = trim(text);
    for (int padding = 0; padding < 2 && !text.empty() && text.back() == '='; ++padding) text.remove_suffix(1);
    if (text.size() % 4 == 1) return std::nullopt;
    std::string bytes;
    std::uint32_t buffer = 0;
    int buffered_bits = 0;
    for (char c : text) {
        const int value = base64_value(c);
        if (value < 0) return std::nullopt;
        buffer = ((buffer << 6) | static_cast<std::uint32_t>(value)) & 0xffffffu;
        buffered_bits += 6;
        if (buffered_bits >= 8) {
            buffered_bits -= 8;
            bytes.push_back(static_cast<char>((buffer >> buffered_bits) & 0xffu));
        }
    }
    return bytes;
}

std::optional<VideoDimensions> h264_sps_dimensions(std::string_view nal_unit) {
    if (nal_unit.size() < 2 || (static_cast<unsigned char>(nal_unit[0]) & 0x1f) != 7) return std::nullopt;
    BitReader reader(rbsp_of(nal_unit.substr(1)));
    const std::uint32_t profile_idc = reader.bits(8);
    reader.bits(16);  // constraint_set flags, reserved_zero_2bits, level_idc
    reader.ue();      // seq_parameter_set_id
    const ChromaFormat chroma = read_chroma_format(reader, profile_idc);
    skip_frame_numbering(reader);
    CodedPicture picture;
    picture.width_in_mbs = std::uint64_t{reader.ue()} + 1;
    picture.height_in_map_units = std::uint64_t{reader.ue()} + 1;
    picture.frame_mbs_only = reader.bit() == 1;
    if (!picture.frame_mbs_only) reader.bit();  // mb_adaptive_frame_field_flag
    reader.bit();                               // direct_8x8_inference_flag
    if (reader.bit() == 1)                      // frame_cropping_flag
        for (auto& offset : picture.crop) offset = reader.ue();
    if (reader.failed() || chroma.idc > 3) return std::nullopt;
    return cropped_dimensions(picture, chroma);
}

SdpSummary parse_sdp(std::string_view body) {
    SdpReader reader;
    while (!body.empty()) {
        const auto line = next_line(body);
        if (line.size() < 2 || line[1] != '=') continue;
        if (line[0] == 'm') reader.media_line(line.substr(2));
        else if (line[0] == 'a') reader.attribute_line(line.substr(2));
    }
    return std::move(reader).result();
}

}  // namespace diag503
