#pragma once

#include <QStringList>

// `gemdirect storyboard`: the headless storyboard flow (create, references, keyframes, status,
// approve, upload, reroll, update-stale) over gd::storyboard::StoryboardController; returns the
// process exit code (0 ok — also when items wait for approval, 1 render failures, 2 bad input,
// 3 server unreachable, 130 interrupted).
int storyboardCommand(const QStringList& arguments);
