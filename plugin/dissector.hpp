// Registration entry points of the diag503 protocol, called from the plugin's exports.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include "capture/capture_analysis.hpp"

namespace diag503 {
// What the diag503 tap delivers to statistics: exactly one of the two is set.
struct TapRecord {
    const FinishedVerdict* verdict = nullptr;
    const FinishedReaction* reaction = nullptr;
};
}  // namespace diag503

void diag503_register_protocol(void);
void diag503_register_handoff(void);

// The statistics tree reads the tap that the dissector feeds.
void diag503_register_statistics(void);
