// The symbols Wireshark looks up in a plugin: version, wanted Wireshark version, registration and (4.2+) type.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <epan/proto.h>
#include <ws_symbol_export.h>
#include <ws_version.h>

#include "dissector.hpp"
#include "wireshark_compat.hpp"

// C linkage and external linkage are both required, or Wireshark skips the plugin without a word.
extern "C" {
WS_DLL_PUBLIC_DEF extern const char plugin_version[];
WS_DLL_PUBLIC_DEF extern const int plugin_want_major;
WS_DLL_PUBLIC_DEF extern const int plugin_want_minor;
WS_DLL_PUBLIC_DEF void plugin_register(void);
#if DIAG503_HAS_PLUGIN_DESCRIBE
WS_DLL_PUBLIC_DEF uint32_t plugin_describe(void);

uint32_t plugin_describe(void) { return WS_PLUGIN_DESC_DISSECTOR; }
#endif

const char plugin_version[] = DIAG503_VERSION;
const int plugin_want_major = WIRESHARK_VERSION_MAJOR;
const int plugin_want_minor = WIRESHARK_VERSION_MINOR;

void plugin_register(void) {
    static proto_plugin diag503_protocol;
    diag503_protocol.register_protoinfo = [] {
        diag503_register_protocol();
        diag503_register_statistics();
    };
    diag503_protocol.register_handoff = diag503_register_handoff;
    proto_register_plugin(&diag503_protocol);
}
}
