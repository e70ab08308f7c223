#pragma once

#include <QStringList>

// `gemdirect run`: render a story.json through ComfyUI (or the built-in sandbox) and print
// progress per scene; returns the process exit code.
int runCommand(const QStringList& arguments);
