#include "gpu/NvidiaSmiSource.h"

#include <QProcess>
#include <cmath>

namespace gd::gpu {

namespace {

// nvidia-smi prints a few lines per GPU; anything much larger is not its answer.
constexpr qint64 MaxOutputBytes = 256 * 1024;
// How much of unexpected output an error message quotes.
constexpr int MaxQuotedChars = 400;
constexpr qint64 BytesPerMiB = 1024 * 1024;
// Columns after the name, read from the right: memory.total, memory.used, memory.free,
// utilization.gpu, temperature.gpu.
constexpr int TrailingColumns = 5;

void setText(QString* out, const QString& text)
{
    if (out)
        *out = text;
}

QString quoted(const QString& text)
{
    QString t = text.trimmed();
    if (t.size() > MaxQuotedChars)
        t = t.left(MaxQuotedChars) + QStringLiteral("…");
    return t;
}

bool isUnavailable(const QString& v)
{
    // nvidia-smi writes "[N/A]" / "[Not Supported]" (and "N/A" in some versions) for metrics a GPU
    // or driver does not report: such a metric is unavailable, never 0.
    return v.compare(QLatin1String("[N/A]"), Qt::CaseInsensitive) == 0 ||
           v.compare(QLatin1String("N/A"), Qt::CaseInsensitive) == 0 ||
           v.compare(QLatin1String("[Not Supported]"), Qt::CaseInsensitive) == 0 ||
           v.compare(QLatin1String("Not Supported"), Qt::CaseInsensitive) == 0 ||
           v.compare(QLatin1String("[Unknown Error]"), Qt::CaseInsensitive) == 0;
}

// A numeric cell: empty optional when unavailable; false when it is neither a number in
// [0, maxValue] nor a known "unavailable" marker. The bound keeps the later integer conversions
// defined ("1e300", "inf" and "nan" parse as doubles) and rejects rows whose columns are shifted.
bool readNumber(const QString& cell, double maxValue, std::optional<double>* out)
{
    const QString v = cell.trimmed();
    if (isUnavailable(v)) {
        out->reset();
        return true;
    }
    bool ok = false;
    const double d = v.toDouble(&ok);
    if (!ok || !std::isfinite(d) || d < 0 || d > maxValue)
        return false;
    *out = d;
    return true;
}

QString formatSeconds(int ms)
{
    return QString::number(ms / 1000.0, 'g', 3) + QStringLiteral(" s");
}

} // namespace

NvidiaSmiSource::NvidiaSmiSource(QString program, int timeoutMs)
    : m_program(std::move(program)), m_timeoutMs(timeoutMs)
{
}

QStringList NvidiaSmiSource::arguments()
{
    return {QStringLiteral("--query-gpu=index,name,memory.total,memory.used,memory.free,utilization.gpu,"
                           "temperature.gpu"),
            QStringLiteral("--format=csv,noheader,nounits")};
}

QVector<GpuSnapshot> NvidiaSmiSource::parse(const QString& stdoutText, QString* error)
{
    static const char* const columnNames[TrailingColumns] = {"memory.total", "memory.used", "memory.free",
                                                             "utilization.gpu", "temperature.gpu"};
    // Memory in MiB (a petabyte is far beyond any GPU), utilisation in percent, temperature in °C.
    static const double columnMax[TrailingColumns] = {1.0e9, 1.0e9, 1.0e9, 100.0, 1000.0};
    QString text = stdoutText;
    text.remove(QLatin1Char('\r'));
    const QStringList lines = text.split(QLatin1Char('\n'));

    const auto notCsv = [&](const QString& why) {
        setText(error, QStringLiteral("unexpected nvidia-smi output (") + why + QStringLiteral("): ") +
                           quoted(stdoutText));
        return QVector<GpuSnapshot>{};
    };

    QVector<GpuSnapshot> gpus;
    const QDateTime now = QDateTime::currentDateTimeUtc();
    for (const QString& rawLine : lines) {
        const QString line = rawLine.trimmed();
        if (line.isEmpty())
            continue;
        const QStringList cols = line.split(QLatin1Char(','));
        if (cols.size() < 2 + TrailingColumns)
            return notCsv(QStringLiteral("not a GPU row"));

        bool ok = false;
        const int index = cols.front().trimmed().toInt(&ok);
        if (!ok || index < 0)
            return notCsv(QStringLiteral("bad index"));

        // Only the name can contain commas: take the index from the left, the numbers from the
        // right, and whatever is between them is the name.
        const int firstTrailing = cols.size() - TrailingColumns;
        const QString name = cols.mid(1, firstTrailing - 1).join(QLatin1Char(',')).trimmed();

        std::optional<double> values[TrailingColumns];
        for (int i = 0; i < TrailingColumns; ++i) {
            if (!readNumber(cols.at(firstTrailing + i), columnMax[i], &values[i]))
                return notCsv(QStringLiteral("bad ") + QLatin1String(columnNames[i]));
        }

        GpuSnapshot s;
        s.source = QStringLiteral("nvidia-smi");
        s.type = QStringLiteral("cuda");
        s.index = index;
        s.name = name;
        s.takenAt = now;
        const auto bytes = [](const std::optional<double>& mib) -> std::optional<qint64> {
            if (!mib)
                return std::nullopt;
            return static_cast<qint64>(*mib * BytesPerMiB);
        };
        s.vramTotalBytes = bytes(values[0]);
        s.vramUsedBytes = bytes(values[1]);
        s.vramFreeBytes = bytes(values[2]);
        // nvidia-smi's used excludes reserved memory, so total != used + free in general; derive a
        // missing value only when the other two are known.
        if (!s.vramFreeBytes && s.vramTotalBytes && s.vramUsedBytes && *s.vramUsedBytes <= *s.vramTotalBytes)
            s.vramFreeBytes = *s.vramTotalBytes - *s.vramUsedBytes;
        if (!s.vramUsedBytes && s.vramTotalBytes && s.vramFreeBytes && *s.vramFreeBytes <= *s.vramTotalBytes)
            s.vramUsedBytes = *s.vramTotalBytes - *s.vramFreeBytes;
        if (values[3])
            s.utilizationPercent = static_cast<int>(*values[3]);
        if (values[4])
            s.temperatureC = static_cast<int>(*values[4]);
        gpus.push_back(s);
    }
    if (gpus.isEmpty()) {
        setText(error, QStringLiteral("nvidia-smi listed no GPUs"));
        return {};
    }
    return gpus;
}

QVector<GpuSnapshot> NvidiaSmiSource::query(QString* error) const
{
    QProcess process;
    process.setProcessChannelMode(QProcess::SeparateChannels);
    process.start(m_program, arguments(), QIODevice::ReadOnly);
    if (!process.waitForStarted(m_timeoutMs)) {
        if (process.error() == QProcess::Timedout) {
            process.kill();
            process.waitForFinished(1000);
            setText(error, m_program + QStringLiteral(" did not start within ") + formatSeconds(m_timeoutMs));
        } else {
            setText(error, m_program + QStringLiteral(" could not be started: ") + process.errorString());
        }
        return {};
    }
    process.closeWriteChannel();
    if (!process.waitForFinished(m_timeoutMs)) {
        // A hung driver makes nvidia-smi block for minutes; the bound is part of the contract.
        process.kill();
        process.waitForFinished(1000);
        setText(error, QStringLiteral("nvidia-smi did not answer within ") + formatSeconds(m_timeoutMs));
        return {};
    }
    const QString out = QString::fromUtf8(process.readAllStandardOutput().left(MaxOutputBytes));
    const QString err = QString::fromUtf8(process.readAllStandardError().left(MaxOutputBytes));
    if (process.exitStatus() != QProcess::NormalExit) {
        setText(error, QStringLiteral("nvidia-smi crashed") +
                           (err.trimmed().isEmpty() ? QString() : QStringLiteral(": ") + quoted(err)));
        return {};
    }
    if (process.exitCode() != 0) {
        // nvidia-smi prints its failure reason ("NVIDIA-SMI has failed because ...") on stdout.
        QString message = quoted(out);
        if (!err.trimmed().isEmpty())
            message += (message.isEmpty() ? QString() : QStringLiteral(" ")) + quoted(err);
        setText(error, QStringLiteral("nvidia-smi exited with code ") + QString::number(process.exitCode()) +
                           (message.isEmpty() ? QString() : QStringLiteral(": ") + message));
        return {};
    }
    return parse(out, error);
}

std::optional<GpuSnapshot> NvidiaSmiSource::sample(int index, QString* error) const
{
    const QVector<GpuSnapshot> gpus = query(error);
    if (gpus.isEmpty())
        return std::nullopt;
    for (const GpuSnapshot& g : gpus) {
        if (g.index == index)
            return g;
    }
    setText(error, QStringLiteral("nvidia-smi lists no GPU with index ") + QString::number(index));
    return std::nullopt;
}

} // namespace gd::gpu
