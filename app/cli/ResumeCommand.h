#pragma once

#include <QStringList>

// `gemdirect resume RUN_DIR`: continue a run that stopped before its end (crash, kill, power
// loss) from its journal: re-attach to prompts still on the server, collect the ones that finished
// meanwhile, render only what is missing; returns the process exit code.
int resumeCommand(const QStringList& arguments);
