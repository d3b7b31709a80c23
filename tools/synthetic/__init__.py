# Synthetic SIP and RTSP 503 captures and their truth: messages, encoders, stories and scenarios.
# SPDX-License-Identifier: GPL-2.0-or-later
