// SPDX-License-Identifier: MIT
/* PP_SANITIZED is 1 in the ASan+UBSan build of the unit tests (make san-lib), else 0. A
 * wall-clock bound is a timed test: under the sanitizers it would time them, several times
 * slower, not our code, so the few bounds that are the point of their test (a complexity
 * regression) apply outside that build only. */
#ifndef PP_SANITIZED_H
#define PP_SANITIZED_H

#if defined(__SANITIZE_ADDRESS__)
#define PP_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define PP_SANITIZED 1
#endif
#endif
#ifndef PP_SANITIZED
#define PP_SANITIZED 0
#endif

#endif
