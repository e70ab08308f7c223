#pragma once

#include "gpu/GpuSnapshot.h"

#include <QString>
#include <QStringList>
#include <QVector>
#include <optional>

namespace gd::gpu {

// GPU readings from the nvidia-smi command-line tool: the fallback when NVML cannot be loaded.
// Runs the program with an argument list (never through a shell), bounded by a timeout after which
// the process is killed. Blocking: call it off the GUI thread only.
class NvidiaSmiSource
{
public:
    static constexpr int DefaultTimeoutMs = 5000;

    explicit NvidiaSmiSource(QString program = QStringLiteral("nvidia-smi"),
                             int timeoutMs = DefaultTimeoutMs);

    void setProgram(const QString& program) { m_program = program; }
    QString program() const { return m_program; }
    void setTimeoutMs(int timeoutMs) { m_timeoutMs = timeoutMs; }
    int timeoutMs() const { return m_timeoutMs; }

    // The exact arguments passed to nvidia-smi; the column order is what parse() expects.
    static QStringList arguments();

    // Runs nvidia-smi once and parses every GPU it lists. Empty with `error` set when the program is
    // missing, times out ("nvidia-smi did not answer within 5 s"), exits non-zero (its message is
    // included) or prints something that is not the expected CSV.
    QVector<GpuSnapshot> query(QString* error) const;
    // The GPU whose nvidia-smi index is `index`.
    std::optional<GpuSnapshot> sample(int index, QString* error) const;

    // Parses `--format=csv,noheader,nounits` output of arguments()' query: one line per GPU, MiB
    // values turned into bytes, "[N/A]"/"[Not Supported]"/"N/A" left empty. Any line that is not
    // such a row makes the whole output an error that quotes the text (e.g. the driver failure message).
    static QVector<GpuSnapshot> parse(const QString& stdoutText, QString* error);

private:
    QString m_program;
    int m_timeoutMs;
};

} // namespace gd::gpu
