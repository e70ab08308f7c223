#pragma once

#include <QStringList>

// `gemdirect sentinel --output-dir DIR… [--stable-seconds 3] [--min-frames 1] [--comfy-url URL] [--once]`:
// writes <prefix>.done markers for workflows that end in a plain SaveImage, until Ctrl-C (or one pass).
int sentinelCommand(const QStringList& arguments);
