#pragma once

#include <QString>

// A sanitizer (ASan, LSan, UBSan) prints its findings on the process's stderr and may let it exit
// 0 (a leak report when exitcode=0, a UBSan report with recovery): what a child xbnc printed has
// to be read for them, as ZNC's test harness does, or a sanitized CI run passes over them.
// Returns the report from its first line on (bounded in size), or an empty string when none.
QString sanitizerReport(const QString &output);
