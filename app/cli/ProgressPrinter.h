#pragma once

#include "pipeline/RunController.h"

#include <QHash>
#include <QObject>

namespace cli {

// Prints a run's events on the console, one line per scene event; sampler progress at most every
// 10 % (`gemdirect run` and `gemdirect resume`).
class ProgressPrinter : public QObject
{
public:
    ProgressPrinter(gd::pipeline::RunController* controller, bool quiet);

private:
    QHash<QString, int> m_lastDecile;
};

} // namespace cli
