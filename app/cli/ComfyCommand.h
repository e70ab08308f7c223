#pragma once

#include <QStringList>

// `gemdirect comfy install-node --comfy-dir PATH`: puts the bundled GemDirectSaveFrames node
// package into ComfyUI's custom_nodes/, keeping a disabled, timestamped backup of an older copy.
int comfyCommand(const QStringList& arguments);
