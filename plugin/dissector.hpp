// Registration entry points of the diag503 protocol, called from the plugin's exports.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

void diag503_register_protocol(void);
void diag503_register_handoff(void);

// The statistics tree reads the tap that the dissector feeds.
void diag503_register_statistics(void);
