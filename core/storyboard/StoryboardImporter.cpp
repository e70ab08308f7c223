#include "storyboard/StoryboardImporter.h"

#include "common/Error.h"
#include "pipeline/FrameCollector.h"
#include "storyboard/StoryboardState.h"

#include <QDir>
#include <QFileInfo>
#include <QtConcurrent>

namespace gd::storyboard {

QVector<ImportResult> StoryboardImporter::run(const QVector<ImportJob>& jobs)
{
    QVector<ImportResult> results;
    results.reserve(jobs.size());
    for (const ImportJob& job : jobs) {
        ImportResult r;
        r.target = job.target;
        const QString folder = QFileInfo(job.target).absolutePath();
        if (!QDir().mkpath(folder)) {
            r.error = QStringLiteral("cannot create %1").arg(folder);
        } else {
            bool linked = false;
            r.error = pipeline::FrameCollector::linkOrCopy(job.source, job.target, &linked);
            if (r.error.isEmpty() && job.hash) {
                const Error e = StoryboardState::sha256OfFile(job.target, r.sha256);
                if (!e.isNull()) {
                    r.sha256.clear();
                    r.error = e.message;
                }
            }
        }
        results << r;
    }
    return results;
}

QFuture<QVector<ImportResult>> StoryboardImporter::start(QVector<ImportJob> jobs)
{
    return QtConcurrent::run([jobs = std::move(jobs)] { return run(jobs); });
}

} // namespace gd::storyboard
