// The few calls whose name or presence differs between Wireshark 4.0 and 4.6, each behind one helper.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <epan/packet.h>
#include <ws_version.h>

#define DIAG503_WIRESHARK_AT_LEAST(major, minor) \
    (WIRESHARK_VERSION_MAJOR > (major) || (WIRESHARK_VERSION_MAJOR == (major) && WIRESHARK_VERSION_MINOR >= (minor)))

// 4.2 added plugin_describe(), without which `tshark -G plugins` lists the plugin's type as "unknown".
#if DIAG503_WIRESHARK_AT_LEAST(4, 2)
#include <wsutil/plugins.h>
#define DIAG503_HAS_PLUGIN_DESCRIBE 1
#else
#define DIAG503_HAS_PLUGIN_DESCRIBE 0
#endif

namespace diag503_compat {

// The name Wireshark shows for a data source ("Reassembled TCP (…)"); free it with wmem_free(nullptr, …).
// 4.6 renamed get_data_source_name() to get_data_source_description().
inline char* data_source_label(const struct data_source* source) {
#if DIAG503_WIRESHARK_AT_LEAST(4, 5)
    return get_data_source_description(source);
#else
    return get_data_source_name(source);
#endif
}

}  // namespace diag503_compat
