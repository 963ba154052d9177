#pragma once

// Every fuzz input that the code refuses is logged with qCWarning; millions of those lines would
// bury libFuzzer's own report. Fatal messages still abort, as they must.
void quietQtMessages();
