// The diag503 preferences: one per engine threshold and state bound, registered from a single table.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <epan/prefs.h>

#include "core/settings.hpp"

namespace diag503 {

// Registers every preference under `module`, backed by `values` (which must outlive the module).
void register_preferences(module_t* module, Settings& values);

}  // namespace diag503
