// Retry-After, read the same way in SIP (RFC 3261 §20.33) and RTSP (RFC 2326 §12.31).
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace diag503 {

struct RetryAfter {
    bool present = false;
    bool valid = false;           // delta-seconds parsed, and not contradicted by a duplicate header
    bool clamped = false;         // larger than 2^32-1 and taken as 2^32-1, as RFC 3261 does for delta-seconds
    bool conflicting = false;     // the header was repeated with a different value
    std::uint64_t seconds = 0;    // meaningful when valid
    std::string comment;
    std::optional<std::uint64_t> duration_seconds;
    int occurrences = 0;          // >1 means the header was duplicated
    std::string raw;              // as sent, cut for display
};

// delta-seconds [ "(" comment ")" ] *( ";" parameter ); an HTTP-date is kept in `raw` but is not valid.
RetryAfter parse_retry_after(std::string_view value);

// Adds one more Retry-After header to `retry`: a repeat that disagrees makes neither trusted.
void merge_retry_after(RetryAfter& retry, std::string_view value, std::vector<std::string>& anomalies);

}  // namespace diag503
