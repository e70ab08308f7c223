#pragma once

#include <QStringList>

// `gemdirect health [--json]`: LLM, ComfyUI, GPU and disk; exit 0 healthy, 1 degraded, 2 down.
int healthCommand(const QStringList& arguments);
