// The rows of the SIP rule table, compiled from sip/sip_rules.def.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "sip/sip_rules.hpp"

#define DIAG503_RULES_DEF "sip/sip_rules.def"
#define DIAG503_RULE_ID SipRule
#include "core/rule_table_rows.inc"
