#include "StoryboardVideoRun.h"

#include "CliCommon.h"
#include "ProgressPrinter.h"
#include "SignalWatcher.h"
#include "comfy/WorkflowProfileLoader.h"
#include "store/Database.h"
#include "store/RunStore.h"
#include "storyboard/ClipImporter.h"
#include "storyboard/GpuTimeEstimator.h"
#include "storyboard/RenderStoryBuilder.h"
#include "storyboard/ShotList.h"
#include "storyboard/StoryboardController.h"
#include "storyboard/VideoRunJudgements.h"

#include <QDir>
#include <QFileInfo>

using namespace gd;

namespace cli {

namespace {

int worse(int a, int b)
{
    // 0 < 1 (some failed); 2, 3 and 130 end the command before this is asked.
    return std::max(a, b);
}

} // namespace

int runStoryboardVideo(const StoryboardVideoArgs& args, pipeline::RunOptions base, gpu::GpuMonitor* monitor,
                       SignalWatcher& signals, QString* lastRunDir)
{
    const QString dir = QDir(args.dir).absolutePath();
    // The staleness check hashes the profiles the sheets and keyframes were rendered with: take their
    // names from the storyboard itself, so a video pass never calls a keyframe stale for that reason.
    storyboard::StoryboardState onDisk;
    if (const Error e = storyboard::StoryboardState::load(dir, onDisk); !e.isNull()) {
        err() << "error: " << e.message << Qt::endl;
        return 2;
    }
    storyboard::StoryboardControllerOptions co;
    co.render = base;
    co.videoProfile = args.videoProfile;
    if (args.sandbox) {
        co.sheetProfile = QStringLiteral("sandbox-reference-sheet");
        co.keyframeProfile = QStringLiteral("sandbox-keyframe");
        co.textKeyframeProfile = QStringLiteral("sandbox-keyframe-text");
    }
    const QString sheetProfile =
        storyboard::RenderStoryBuilder::profileInState(onDisk, storyboard::ItemKind::Reference);
    const QString keyframeProfile =
        storyboard::RenderStoryBuilder::profileInState(onDisk, storyboard::ItemKind::Keyframe);
    if (!sheetProfile.isEmpty())
        co.sheetProfile = sheetProfile;
    if (!keyframeProfile.isEmpty())
        co.keyframeProfile = keyframeProfile;
    const QString textKeyframeProfile =
        storyboard::RenderStoryBuilder::profileInState(onDisk, storyboard::ItemKind::Keyframe, true);
    if (!textKeyframeProfile.isEmpty())
        co.textKeyframeProfile = textKeyframeProfile;
    storyboard::StoryboardController ctl(co, monitor);
    if (const Error e = ctl.open(dir); !e.isNull()) {
        err() << "error: " << e.message << Qt::endl;
        return 2;
    }

    QStringList loadErrors;
    const auto profile =
        comfy::WorkflowProfileLoader::resolve(args.videoProfile, base.profileSearchDirs, &loadErrors);
    if (!profile) {
        err() << "error: video profile '" << args.videoProfile
              << "' cannot be loaded: " << loadErrors.join(QStringLiteral("; ")) << Qt::endl;
        return 2;
    }
    // A bookend shot's approved end keyframe goes to end_image when the profile maps it (the plan gates
    // on it); a profile without end_image renders every shot from its start image (lastFrame ignored).
    // What the profile must map is what a single-image shot needs.
    if (const QStringList problems = profile->requiredRolesFor(comfy::Purpose::Video, comfy::ShotNeeds{});
        !problems.isEmpty()) {
        for (const QString& p : problems)
            err() << "error: " << p << Qt::endl;
        err() << "Nothing was queued." << Qt::endl;
        return 2;
    }
    {
        const storyboard::ShotList shots(ctl.story());
        QStringList unknown;
        for (const QString& key : args.shots)
            if (shots.indexOf(key) < 0)
                unknown << key;
        if (!unknown.isEmpty()) {
            err() << "error: --shots: the story has no shot " << unknown.join(QStringLiteral(", "))
                  << " (keys look like scene-001/shot-01)" << Qt::endl;
            return 2;
        }
    }

    storyboard::GpuTimeEstimator estimator;
    if (!base.historyDatabase.isEmpty() && QFileInfo::exists(base.historyDatabase)) {
        store::Database database;
        if (database.open(base.historyDatabase).isNull()) {
            store::RunStore runs(database);
            estimator.addFromStore(runs, args.videoProfile);
        }
    }

    storyboard::VideoRenderOptions vo;
    vo.keys = args.shots;
    vo.includeFresh = args.all;
    vo.chainCap = co.chainCap;
    int exitCode = 0;
    lastRunDir->clear();
    const int maxPasses = int(storyboard::ShotList(ctl.story()).shots().size()) + 1;
    for (int pass = 1; pass <= maxPasses; ++pass) {
        const storyboard::Plan plan = ctl.plan(storyboard::StoryboardStage::Video);
        const storyboard::VideoRenderStory vr =
            storyboard::RenderStoryBuilder::buildVideo(ctl.story(), ctl.state(), plan, vo);
        if (pass == 1) {
            for (const storyboard::BlockedItem& b : vr.blocked)
                out() << "skipped: " << b.key << ": " << b.message << Qt::endl;
            if (vr.skippedFresh > 0 && !args.all)
                out() << vr.skippedFresh << " shot(s) already have a fresh clip (--all renders them again)"
                      << Qt::endl;
            storyboard::GpuTimeEstimator est = estimator;
            est.addFromState(ctl.state());
            const storyboard::StageEstimate e = est.estimate(QStringLiteral("video"), args.videoProfile,
                                                             int(vr.items.size() + vr.waiting.size()));
            out() << "Estimated GPU time for " << (vr.items.size() + vr.waiting.size())
                  << " clip(s): " << e.text() << Qt::endl;
        }
        if (vr.items.isEmpty()) {
            for (const QString& key : vr.waiting)
                out() << "skipped: " << key << ": the shot it continues from was not rendered" << Qt::endl;
            if (pass == 1)
                out() << "Nothing to render." << Qt::endl;
            break;
        }
        out() << "Pass " << pass << ": " << vr.items.size() << " clip(s) with profile '" << args.videoProfile
              << "'";
        if (!vr.waiting.isEmpty())
            out() << "; " << vr.waiting.size() << " chained shot(s) wait for the next pass";
        out() << Qt::endl;

        pipeline::RunOptions ro = base;
        ro.story = vr.story;
        ro.storyDir = dir;
        ro.runsRoot = QDir(dir).filePath(QStringLiteral("runs"));
        ro.workflow = args.videoProfile;
        ro.existingRunDir.clear();
        ro.resume.reset();
        ro.storyGenerator = QStringLiteral("file");
        ro.llmHealth.status = QStringLiteral("skipped");
        ro.llmHealth.skipped = true;
        ro.llmHealth.skipReason =
            QStringLiteral("storyboard video pass: the story comes from the storyboard directory");
        ro.llmHealth.timestamp = QDateTime::currentDateTimeUtc();
        QDir().mkpath(ro.runsRoot);
        auto* controller = new pipeline::RunController(ro, monitor);
        if (args.runStarted)
            args.runStarted(controller);
        const int code = runToCompletion(controller, signals, args.quiet);
        const telemetry::RunRecord record = controller->record();
        delete controller;
        if (!record.runDir.isEmpty())
            *lastRunDir = record.runDir;
        if (code == int(pipeline::RunExit::BadInput) || code == int(pipeline::RunExit::Unreachable) ||
            code == int(pipeline::RunExit::Interrupted)) {
            exitCode = code;
            break;
        }
        exitCode = worse(exitCode, code == int(pipeline::RunExit::Success) ? 0 : 1);
        // The storyboard metrics of this run (its quality step reads them): from the state the pass was
        // built from, before its clips are imported.
        if (!record.runDir.isEmpty()) {
            QString warning;
            const Error e = storyboard::VideoRunJudgements::writeForRun(dir, record.runDir, ctl.story(), ctl.state(),
                                                                         vr, &warning);
            if (!warning.isEmpty())
                err() << "WARNING: storyboard verdicts not usable: " << warning << Qt::endl;
            if (!e.isNull())
                err() << "WARNING: storyboard metrics of " << record.runDir << " not recorded: " << e.message
                      << Qt::endl;
        }

        // Imported into the state on disk (the controller's copy is read-only), saved once, reopened.
        storyboard::StoryboardState state;
        if (const Error e = storyboard::StoryboardState::load(dir, state); !e.isNull()) {
            err() << "error: " << e.message << Qt::endl;
            exitCode = 1;
            break;
        }
        QStringList problems;
        const int imported =
            storyboard::ClipImporter::importRun(dir, state, vr.items, record, args.videoProfile, &problems);
        for (const QString& p : problems)
            err() << p << Qt::endl;
        if (!problems.isEmpty())
            exitCode = worse(exitCode, 1);
        if (imported > 0) {
            if (const Error e = state.save(dir); !e.isNull()) {
                err() << "error: cannot save storyboard.json: " << e.message << Qt::endl;
                exitCode = 1;
                break;
            }
        }
        out() << "Pass " << pass << ": " << imported << " clip(s) stored under "
              << QDir(dir).filePath(QStringLiteral("clips")) << Qt::endl;
        if (args.runFinished && !record.runDir.isEmpty()) {
            const int q = args.runFinished(record.runDir, code);
            if (q == int(pipeline::RunExit::Interrupted)) {
                exitCode = q;
                break;
            }
        }
        if (const Error e = ctl.open(dir); !e.isNull()) {
            err() << "error: " << e.message << Qt::endl;
            exitCode = 1;
            break;
        }
        for (const storyboard::WorkItem& w : vr.items)
            vo.done.insert(w.key);
        if (imported == 0)
            break; // nothing new for a chained shot to start from
    }
    return exitCode;
}

} // namespace cli
