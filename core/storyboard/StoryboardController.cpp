#include "storyboard/StoryboardController.h"

#include "storyboard/ClipImporter.h"
#include "storyboard/RenderStoryBuilder.h"
#include "storyboard/StoryboardImporter.h"
#include "storyboard/VideoRunJudgements.h"

#include "comfy/WorkflowProfileLoader.h"
#include "common/AtomicFile.h"
#include "common/Log.h"
#include "gpu/GpuMonitor.h"
#include "llm/LlmClient.h"
#include "pipeline/RunQualityJob.h"
#include "quality/KeyframeJudge.h"
#include "quality/StoryboardJudgements.h"
#include "quality/StoryboardMetrics.h"
#include "store/Database.h"
#include "store/RunStore.h"
#include "story/StoryLoader.h"
#include "story/StoryShots.h"
#include "storyboard/InputHasher.h"
#include "storyboard/StoryboardKeys.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QJsonArray>
#include <QJsonDocument>
#include <QtConcurrent>

#include <utility>

namespace gd::storyboard {

namespace {

ItemKind kindOfStep(PlanStage step)
{
    switch (step) {
    case PlanStage::References: return ItemKind::Reference;
    case PlanStage::Keyframes: return ItemKind::Keyframe;
    default: return ItemKind::Clip;
    }
}

QString kindLabel(ItemKind kind)
{
    switch (kind) {
    case ItemKind::Reference: return QStringLiteral("sheet");
    case ItemKind::Keyframe: return QStringLiteral("keyframe");
    case ItemKind::EndKeyframe: return QStringLiteral("end keyframe");
    case ItemKind::Clip: return QStringLiteral("clip");
    }
    return {};
}

QString kindJsonName(ItemKind kind)
{
    switch (kind) {
    case ItemKind::Reference: return QStringLiteral("reference");
    case ItemKind::Keyframe: return QStringLiteral("keyframe");
    case ItemKind::EndKeyframe: return QStringLiteral("endKeyframe");
    case ItemKind::Clip: return QStringLiteral("clip");
    }
    return {};
}

// The key an operator names an item by in start(keys): a shot's end keyframe is "<shotKey>#end".
QString operatorKey(ItemKind kind, const QString& key)
{
    return kind == ItemKind::EndKeyframe ? StoryboardKeys::endKeyframe(key) : key;
}

// The items of a step: the keyframes step renders start and end keyframes together.
bool ofStep(ItemKind itemKind, ItemKind stepKind)
{
    return itemKind == stepKind || (stepKind == ItemKind::Keyframe && itemKind == ItemKind::EndKeyframe);
}

JudgeVerdict toStored(const quality::KeyframeVerdict& v)
{
    JudgeVerdict j;
    j.score = v.score;
    j.descriptionMatch = v.descriptionMatch;
    j.characterCount = v.characterCount;
    for (const auto& p : v.identity)
        j.identity.insert(p.first, p.second);
    j.bordersOrText = v.bordersOrText;
    j.reasons = v.reasons;
    j.model = v.model;
    j.raw = v.toJson();
    return j;
}

quality::KeyframeVerdict fromStored(const JudgeVerdict& j)
{
    quality::KeyframeVerdict v;
    v.score = j.score;
    v.descriptionMatch = j.descriptionMatch;
    v.characterCount = j.characterCount;
    for (auto it = j.identity.cbegin(); it != j.identity.cend(); ++it)
        v.identity.append({it.key(), it.value()});
    v.bordersOrText = j.bordersOrText;
    v.reasons = j.reasons;
    v.model = j.model;
    return v;
}

} // namespace

// One scene of a render story: which work item and candidate it renders.
struct SceneSlot
{
    int item = 0;      // index into StageRun::items
    int candidate = 1; // 1-based
    qint64 seed = 0;
};

// An image version imported from a finished run, waiting for its judge verdicts before it is stored.
struct PendingVersion
{
    WorkItem item;
    ImageVersion version;
    QVector<quality::KeyframeJudgeInput> judgeInputs; // per candidate (keyframes)
    QVector<quality::KeyframeVerdict> verdicts;
};

// A rendered candidate whose file StoryboardImporter is storing; sha256 is filled from its result.
struct ImportingCandidate
{
    int item = 0; // index into StageRun::items
    Candidate candidate;
};

// A clip of the finished video pass whose files StoryboardImporter is storing.
struct PlannedClip
{
    int item = 0;     // index into StageRun::clipItems (and the run's scenes)
    int firstJob = 0; // its jobs' offset in the import
    ClipImporter::ScenePlan plan;
};

// One render run of a step: the items one profile renders. A keyframe step may need two: the
// keyframe profile for shots with character references, the text keyframe profile for the rest.
struct RenderPass
{
    QString profileName;
    comfy::WorkflowProfile profile;
    QVector<WorkItem> items;
};

// Everything of the stage in progress.
struct StoryboardController::StageRun
{
    StoryboardStage stage = StoryboardStage::References;
    QStringList keys;
    QList<PlanStage> steps; // still to do; the front one is running
    QVector<WorkItem> items;
    QVector<SceneSlot> slots;
    QVector<RenderPass> passes; // of the front step, still to render; the front one is running
    QString profileName;
    QString profileHash;
    QVector<PendingVersion> pending;
    // The import of the front pass's outputs in flight (null otherwise), and what each job becomes.
    std::unique_ptr<QFutureWatcher<QVector<ImportResult>>> importWatcher;
    QVector<ImportingCandidate> importing;
    QVector<PlannedClip> clipPlans;
    telemetry::RunRecord clipRecord; // the video pass whose clips are being stored
    int judgeIndex = 0;      // next pending candidate to judge (flattened)
    int failures = 0;        // items with no candidate rendered
    int exitCode = 0;
    bool cancelled = false;
    bool keyframesRendered = false;
    // Video step: the clips of the pass in flight, and the shots rendered by earlier passes of this
    // stage (chained shots render in the pass after the shot they continue from).
    QVector<WorkItem> clipItems;
    QSet<QString> clipsDone;
    int clipPass = 0;
    // The pass's render story, run directory and exit code: its storyboard verdicts and quality step.
    VideoRenderStory clipRender;
    QString clipRunDir;
    int clipRunExit = 0;
    // The verdicts file being written on the thread pool (VideoRunJudgements::writeForRun): error, warning.
    std::unique_ptr<QFutureWatcher<std::pair<Error, QString>>> judgementsWatcher;
    QPointer<pipeline::RunQualityJob> quality; // the pass's quality step while it runs
    // The vision judge, made on first use: judgeState 0 = not asked, 1 = available, 2 = none.
    std::unique_ptr<llm::LlmClient> llm;
    std::unique_ptr<quality::KeyframeJudge> judge;
    int judgeState = 0;
    QString noJudgeWhy;
};

StoryboardController::StoryboardController(StoryboardControllerOptions options, gpu::GpuMonitor* monitor,
                                           QObject* parent)
    : QObject(parent), m_opt(std::move(options)), m_monitor(monitor), m_story(std::make_unique<story::Story>())
{
}

StoryboardController::~StoryboardController()
{
    if (m_controller) {
        // The run's finished() must not reach a controller half destroyed.
        m_controller->disconnect(this);
        if (!m_controller->isFinished())
            m_controller->cancel();
        delete m_controller;
    }
}

QString StoryboardController::stageName(StoryboardStage stage)
{
    return StoryboardPlan::stageName(planStage(stage));
}

PlanStage StoryboardController::planStage(StoryboardStage stage)
{
    switch (stage) {
    case StoryboardStage::References: return PlanStage::References;
    case StoryboardStage::Keyframes: return PlanStage::Keyframes;
    case StoryboardStage::Video: return PlanStage::VideoForApproved;
    case StoryboardStage::UpdateStale: return PlanStage::UpdateStale;
    }
    return PlanStage::References;
}

Error StoryboardController::open(const QString& dir)
{
    if (isBusy())
        return {QStringLiteral("busy"), QStringLiteral("a storyboard stage is running"), {}};
    const QString abs = QDir(dir).absolutePath();
    const QString storyPath = QDir(abs).filePath(QStringLiteral("story.json"));
    if (!QFileInfo::exists(storyPath))
        return {QStringLiteral("missingStory"),
                QStringLiteral("%1: no story.json (make one with `gemdirect storyboard create`)").arg(storyPath), {}};
    QStringList problems;
    auto loaded = story::StoryLoader::load(storyPath, &problems);
    if (!loaded)
        return {QStringLiteral("badStory"), QStringLiteral("%1: %2").arg(storyPath, problems.join(QStringLiteral("; "))), {}};
    StoryboardState state;
    const Error e = StoryboardState::load(abs, state);
    if (!e.isNull())
        return e;
    m_dir = abs;
    *m_story = std::move(*loaded);
    m_state = std::move(state);
    invalidate();
    Q_EMIT stateChanged();
    return {};
}

Error StoryboardController::create(const QString& dir, const story::Story& s)
{
    if (isBusy())
        return {QStringLiteral("busy"), QStringLiteral("a storyboard stage is running"), {}};
    const QString abs = QDir(dir).absolutePath();
    // The story must load back: the storyboard reopens it from story.json every time.
    QStringList problems;
    if (!story::StoryLoader::fromObject(story::StoryLoader::toJson(s), &problems))
        return {QStringLiteral("badStory"),
                QStringLiteral("the story cannot start a storyboard: %1").arg(problems.join(QStringLiteral("; "))), {}};
    if (QFileInfo::exists(QDir(abs).filePath(StoryboardState::fileName())))
        return {QStringLiteral("exists"),
                QStringLiteral("%1 already holds a storyboard.json: open it instead").arg(abs), {}};
    if (!QDir().mkpath(abs))
        return {QStringLiteral("io"), QStringLiteral("cannot create the directory %1").arg(abs), {}};
    m_dir = abs;
    *m_story = s;
    m_state = StoryboardState();
    Error e = saveStory();
    if (e.isNull())
        e = saveState();
    invalidate();
    Q_EMIT stateChanged();
    return e;
}

const story::Story& StoryboardController::story() const
{
    return *m_story;
}

const StoryboardState& StoryboardController::state() const
{
    return m_state;
}

QString StoryboardController::directory() const
{
    return m_dir;
}

void StoryboardController::setOptions(StoryboardControllerOptions options)
{
    m_opt = std::move(options);
    m_profileHashes.clear();
    m_profileModels.clear();
    m_profileStyleSlot.clear();
    m_videoEndImage.reset();
    m_history.reset();
    invalidate();
    Q_EMIT stateChanged();
}

void StoryboardController::invalidate()
{
    m_staleness.reset();
}

Error StoryboardController::saveState()
{
    return m_state.save(m_dir);
}

Error StoryboardController::saveStory()
{
    const QByteArray bytes = QJsonDocument(story::StoryLoader::toJson(*m_story)).toJson(QJsonDocument::Indented);
    return AtomicFile::write(QDir(m_dir).filePath(QStringLiteral("story.json")), bytes);
}

InputContext StoryboardController::inputContext() const
{
    // Each profile is read once per option set: its hash and the model files its graph loads.
    auto resolve = [this](const QString& name) {
        if (name.isEmpty() || m_profileHashes.contains(name))
            return;
        QStringList errors;
        const auto profile = comfy::WorkflowProfileLoader::resolve(name, m_opt.render.profileSearchDirs, &errors);
        m_profileHashes.insert(name, profile ? InputHasher::profileHash(profile->graph, profile->profileJson()) : QString());
        m_profileModels.insert(name, profile ? profile->modelText() : QString());
        m_profileStyleSlot.insert(name, profile && profile->hasRole(comfy::Role::StyleReferenceImage));
    };
    auto hashOf = [this, &resolve](const QString& name) {
        resolve(name);
        return m_profileHashes.value(name);
    };
    auto modelOf = [this, &resolve](const QString& name) {
        resolve(name);
        return m_profileModels.value(name);
    };
    InputContext c;
    c.referenceProfileHash = hashOf(m_opt.sheetProfile);
    c.referenceModel = modelOf(m_opt.sheetProfile);
    c.keyframeProfileHash = hashOf(m_opt.keyframeProfile);
    c.keyframeModel = modelOf(m_opt.keyframeProfile);
    c.textKeyframeProfileHash = hashOf(m_opt.textKeyframeProfile);
    c.textKeyframeModel = modelOf(m_opt.textKeyframeProfile);
    // The style reference image is uploaded only to a profile with a slot for it (see the keyframe step).
    c.keyframeUsesStyleImage = m_profileStyleSlot.value(m_opt.keyframeProfile);
    c.textKeyframeUsesStyleImage = m_profileStyleSlot.value(m_opt.textKeyframeProfile);
    c.clipProfileHash = hashOf(m_opt.videoProfile);
    c.clipModel = modelOf(m_opt.videoProfile);
    c.clipUsesEndImage = usesEndKeyframes();
    c.chainCap = m_opt.chainCap;
    return c;
}

bool StoryboardController::usesEndKeyframes() const
{
    if (m_opt.videoProfile.isEmpty())
        return false;
    if (!m_videoEndImage) {
        QStringList errors;
        const auto profile =
            comfy::WorkflowProfileLoader::resolve(m_opt.videoProfile, m_opt.render.profileSearchDirs, &errors);
        m_videoEndImage = profile && profile->hasRole(comfy::Role::EndImage);
    }
    return *m_videoEndImage;
}

StalenessReport StoryboardController::staleness() const
{
    if (!m_staleness) {
        const StoryboardInputs inputs(*m_story, m_state, inputContext());
        m_staleness = std::make_unique<StalenessReport>(StalenessCalculator::compute(inputs));
    }
    return *m_staleness;
}

Plan StoryboardController::plan(StoryboardStage stage) const
{
    const StoryboardInputs inputs(*m_story, m_state, inputContext());
    PlanOptions po;
    po.allowTextOnly = m_opt.allowTextOnly;
    return StoryboardPlan::build(planStage(stage), inputs, staleness(), po);
}

StageEstimate StoryboardController::estimate(StoryboardStage stage) const
{
    if (!m_history) {
        m_history = std::make_unique<GpuTimeEstimator>();
        const QString db = m_opt.render.historyDatabase;
        if (!db.isEmpty() && QFileInfo::exists(db)) {
            store::Database database;
            if (database.open(db).isNull()) {
                store::RunStore runs(database);
                for (const QString& profile :
                     {m_opt.sheetProfile, m_opt.keyframeProfile, m_opt.textKeyframeProfile, m_opt.videoProfile})
                    if (!profile.isEmpty())
                        m_history->addFromStore(runs, profile);
            }
        }
    }
    GpuTimeEstimator est = *m_history;
    est.addFromState(m_state);
    const Plan p = plan(stage);
    const int n = std::max(1, m_opt.candidates);
    int sheets = 0, keyframes = 0, textKeyframes = 0, clips = 0;
    for (const WorkItem& w : p.items) {
        if (w.kind == ItemKind::Keyframe || w.kind == ItemKind::EndKeyframe)
            (keyframeProfileFor(w) == m_opt.keyframeProfile ? keyframes : textKeyframes) += 1;
        else
            (w.kind == ItemKind::Reference ? sheets : clips) += 1;
    }
    // The sum of parts rendered with different profiles; unknown as soon as one part with work has no
    // history.
    auto sum = [&est](const QString& stageText, const QString& fallbackProfile, const QVector<StageEstimate>& parts) {
        StageEstimate total;
        total.stage = stageText;
        double seconds = 0;
        bool known = true;
        QStringList profiles;
        for (const StageEstimate& part : parts) {
            if (part.items == 0)
                continue;
            profiles << part.profile;
            total.items += part.items;
            total.samples += part.samples;
            if (part.totalSeconds)
                seconds += *part.totalSeconds;
            else
                known = false;
        }
        if (profiles.isEmpty())
            return est.estimate(stageText, fallbackProfile, 0); // nothing to render: nothing to estimate
        if (profiles.size() == 1)
            for (const StageEstimate& part : parts)
                if (part.items > 0)
                    return part;
        total.profile = profiles.join(QStringLiteral(", "));
        if (known)
            total.totalSeconds = seconds;
        return total;
    };
    const QString name = stageName(stage);
    const StageEstimate keyframePart = est.estimate(name, m_opt.keyframeProfile, keyframes * n);
    const StageEstimate textPart = est.estimate(name, m_opt.textKeyframeProfile, textKeyframes * n);
    switch (stage) {
    case StoryboardStage::References: return est.estimate(name, m_opt.sheetProfile, sheets * n);
    case StoryboardStage::Keyframes: return sum(name, m_opt.keyframeProfile, {keyframePart, textPart});
    case StoryboardStage::Video: return est.estimate(name, m_opt.videoProfile, clips);
    case StoryboardStage::UpdateStale:
        return sum(name, m_opt.sheetProfile,
                   {est.estimate(name, m_opt.sheetProfile, sheets * n), keyframePart, textPart,
                    est.estimate(name, m_opt.videoProfile, clips)});
    }
    return {};
}

QString StoryboardController::keyframeProfileFor(const WorkItem& item) const
{
    // An item waiting for a sheet being re-rendered will have that sheet: the reference profile.
    if (!m_opt.textKeyframeProfile.isEmpty() && item.waitsFor.isEmpty() &&
        StoryboardInputs::rendersFromText(item.inputs))
        return m_opt.textKeyframeProfile;
    return m_opt.keyframeProfile;
}

QStringList StoryboardController::unapproved(ItemKind kind) const
{
    QStringList keys;
    if (kind == ItemKind::Reference) {
        for (const ReferenceEntry& r : m_state.references())
            if (r.track.selected && !r.track.approved)
                keys << r.key;
    } else {
        for (const ShotEntry& s : m_state.shots()) {
            if (kind == ItemKind::Keyframe && s.keyframe.selected && !s.keyframe.approved)
                keys << s.key;
            if (kind == ItemKind::EndKeyframe && s.endKeyframe.selected && !s.endKeyframe.approved)
                keys << s.key;
            if (kind == ItemKind::Clip && s.clip.selected && !s.clip.approved)
                keys << s.key;
        }
    }
    return keys;
}

bool StoryboardController::isBusy() const
{
    return m_run != nullptr;
}

pipeline::RunController* StoryboardController::currentRun() const
{
    return m_controller;
}

void StoryboardController::start(StoryboardStage stage, const QStringList& keys)
{
    if (isBusy()) {
        Q_EMIT stageFinished(stage, 2, QStringLiteral("a storyboard stage is already running"));
        return;
    }
    if (m_dir.isEmpty()) {
        Q_EMIT stageFinished(stage, 2, QStringLiteral("no storyboard is open"));
        return;
    }
    m_run = std::make_unique<StageRun>();
    m_run->stage = stage;
    m_run->keys = keys;
    switch (stage) {
    case StoryboardStage::References: m_run->steps = {PlanStage::References}; break;
    case StoryboardStage::Keyframes: m_run->steps = {PlanStage::Keyframes}; break;
    case StoryboardStage::Video: m_run->steps = {PlanStage::VideoForApproved}; break;
    case StoryboardStage::UpdateStale:
        // Dependency order: the sheets first, then the keyframes showing them, then their clips.
        m_run->steps = {PlanStage::References, PlanStage::Keyframes, PlanStage::VideoForApproved};
        break;
    }
    const Plan p = plan(stage);
    const StageEstimate est = estimate(stage);
    int items = 0;
    for (const WorkItem& w : p.items)
        if (keys.isEmpty() || keys.contains(operatorKey(w.kind, w.key)))
            items += w.kind == ItemKind::Clip ? 1 : std::max(1, m_opt.candidates);
    Q_EMIT stageStarted(stage, items, est.text());
    Q_EMIT message(QStringLiteral("Stage %1: estimated GPU time %2").arg(stageName(stage), est.text()));
    runNextStep();
}

void StoryboardController::cancel()
{
    if (!m_run)
        return;
    m_run->cancelled = true;
    if (m_controller && !m_controller->isFinished())
        m_controller->cancel();
    if (m_run->importWatcher)
        Q_EMIT message(QStringLiteral("cancelling: the finished render's outputs are stored first, then the stage ends"));
    // The model judges of a video pass's quality step stop too; its local metrics are still written
    // (RunQualityJob), and the stage ends once they are.
    if (m_run->quality && m_run->quality->cancel())
        Q_EMIT message(QStringLiteral("quality step cancelled: the judge metrics not measured yet are UNMEASURED"));
}

void StoryboardController::runNextStep()
{
    if (m_run->cancelled) {
        finishStage(130, QStringLiteral("cancelled"));
        return;
    }
    if (m_run->steps.isEmpty()) {
        if (m_run->keyframesRendered) {
            writeMetrics();
            return;
        }
        finishStage(m_run->exitCode, QString());
        return;
    }
    startRenderStep();
}

// Plans the front step, reports what it cannot render, and starts the render run of the rest.
void StoryboardController::startRenderStep()
{
    StageRun& run = *m_run;
    const PlanStage step = run.steps.front();
    const ItemKind kind = kindOfStep(step);
    const bool staleOnly = run.stage == StoryboardStage::UpdateStale;
    const StoryboardInputs inputs(*m_story, m_state, inputContext());
    PlanOptions po;
    po.allowTextOnly = m_opt.allowTextOnly;
    const Plan p = StoryboardPlan::build(staleOnly ? PlanStage::UpdateStale : step, inputs, staleness(), po);

    const bool filtered = !run.keys.isEmpty();
    run.items.clear();
    QStringList covered;
    for (const WorkItem& w : p.items) {
        if (!ofStep(w.kind, kind) || (filtered && !run.keys.contains(operatorKey(w.kind, w.key))))
            continue;
        covered << operatorKey(w.kind, w.key);
        if (!w.waitsFor.isEmpty()) {
            Q_EMIT message(QStringLiteral("%1 %2 waits for %3: render it after that is approved")
                               .arg(kindLabel(w.kind), w.key, w.waitsFor));
            continue;
        }
        run.items << w;
    }
    for (const BlockedItem& b : p.blocked) {
        if (!ofStep(b.kind, kind) || (filtered && !run.keys.contains(operatorKey(b.kind, b.key))))
            continue;
        covered << operatorKey(b.kind, b.key);
        QString line = QStringLiteral("blocked: %1 %2: %3").arg(kindLabel(b.kind), b.key, b.message);
        if (kind == ItemKind::Keyframe && b.message.contains(QLatin1String("no approved sheet")))
            line += QStringLiteral(" (approve or upload the sheet, or --allow-text-only renders it from text alone)");
        Q_EMIT message(line);
    }
    // Keys asked for by name that the plan skips as fresh: a re-roll, a new version with new seeds.
    if (filtered && kind != ItemKind::Clip) {
        for (const QString& named : run.keys) {
            // "<shotKey>#end" re-rolls the shot's end keyframe, the plain shot key its keyframe.
            const QString endShot = StoryboardKeys::shotOfEndKeyframe(named);
            const ItemKind itemKind = kind == ItemKind::Keyframe && !endShot.isEmpty() ? ItemKind::EndKeyframe : kind;
            const QString key = itemKind == ItemKind::EndKeyframe ? endShot : named;
            const bool ofKind = kind == ItemKind::Reference ? StoryboardKeys::isReferenceKey(key)
                                                            : inputs.shotList().indexOf(key) >= 0;
            if (!ofKind || covered.contains(named))
                continue;
            CurrentInputs cur = kind == ItemKind::Reference      ? inputs.reference(key)
                                : itemKind == ItemKind::EndKeyframe ? inputs.endKeyframe(key, m_opt.allowTextOnly)
                                                                    : inputs.keyframe(key, m_opt.allowTextOnly);
            if (!cur.blocked.isEmpty()) {
                Q_EMIT message(QStringLiteral("blocked: %1 %2: %3").arg(kindLabel(itemKind), key, cur.blocked));
                continue;
            }
            WorkItem w;
            w.kind = itemKind;
            w.key = key;
            w.was = Freshness::Fresh;
            w.reasons << QStringLiteral("re-roll");
            w.inputs = cur.inputs;
            w.inputs.insert(QStringLiteral("seed"),
                            cur.inputs.value(QStringLiteral("seed")).toInteger() + std::max(1, m_opt.candidates));
            w.inputHash = InputHasher::hash(w.inputs);
            w.textOnly = cur.textOnly;
            run.items << w;
        }
    }
    if (kind == ItemKind::Keyframe) {
        for (const ChainLink& link : inputs.chain())
            if (!link.reason.isEmpty() && (!filtered || run.keys.contains(link.shotKey)))
                Q_EMIT message(QStringLiteral("%1: %2").arg(link.shotKey, link.reason));
    }

    if (run.items.isEmpty()) {
        if (!staleOnly || step != PlanStage::References)
            Q_EMIT message(QStringLiteral("%1: nothing to render").arg(StoryboardPlan::stageName(step)));
        run.steps.pop_front();
        runNextStep();
        return;
    }
    if (kind == ItemKind::Clip) {
        startVideoPass();
        return;
    }

    // Every profile must be able to do what the stage asks before any GPU time is spent.
    run.passes.clear();
    for (const WorkItem& w : std::as_const(run.items)) {
        const QString name = kind == ItemKind::Reference ? m_opt.sheetProfile : keyframeProfileFor(w);
        auto pass = std::find_if(run.passes.begin(), run.passes.end(),
                                 [&](const RenderPass& rp) { return rp.profileName == name; });
        if (pass == run.passes.end()) {
            run.passes.append(RenderPass{name, {}, {}});
            pass = run.passes.end() - 1;
        }
        pass->items << w;
    }
    const comfy::Purpose purpose = kind == ItemKind::Reference ? comfy::Purpose::ReferenceSheet : comfy::Purpose::Keyframe;
    QStringList problems;
    for (RenderPass& pass : run.passes) {
        QStringList loadErrors;
        const auto profile = comfy::WorkflowProfileLoader::resolve(pass.profileName, m_opt.render.profileSearchDirs, &loadErrors);
        if (!profile) {
            finishStage(2, QStringLiteral("%1 profile '%2' cannot be loaded: %3")
                               .arg(StoryboardPlan::stageName(step), pass.profileName, loadErrors.join(QStringLiteral("; "))));
            return;
        }
        pass.profile = *profile;
        for (const WorkItem& w : std::as_const(pass.items)) {
            comfy::ShotNeeds needs;
            if (kind == ItemKind::Keyframe)
                needs.visibleCharacters = int(w.inputs.value(QStringLiteral("references")).toArray().size());
            for (const QString& pr : profile->requiredRolesFor(purpose, needs))
                if (!problems.contains(pr))
                    problems << pr;
        }
    }
    if (!problems.isEmpty()) {
        finishStage(2, problems.join(QStringLiteral("; ")));
        return;
    }
    startRenderPass();
}

// Renders the front pass of the front step: a render story with one scene per (item, candidate).
void StoryboardController::startRenderPass()
{
    StageRun& run = *m_run;
    const PlanStage step = run.steps.front();
    const ItemKind kind = kindOfStep(step);
    const RenderPass& pass = run.passes.front();
    const comfy::WorkflowProfile& profile = pass.profile;
    const QString& profileName = pass.profileName;
    const StoryboardInputs inputs(*m_story, m_state, inputContext());
    run.items = pass.items;
    run.profileName = profileName;
    run.profileHash = InputHasher::profileHash(profile.graph, profile.profileJson());
    // A profile without reference slots (the text keyframe profile) gets no images to upload.
    const bool characterSlots = !profile.inputsFor(comfy::Role::CharacterReferenceImage, 0).isEmpty();

    // The render story: one scene per (item, candidate), in plan order.
    story::Story rs;
    rs.storyId = m_story->storyId.isEmpty() ? QStringLiteral("storyboard") : m_story->storyId;
    rs.title = QStringLiteral("%1 — %2").arg(m_story->title, StoryboardPlan::stageName(step));
    rs.genre = m_story->genre;
    rs.logline = m_story->logline;
    run.slots.clear();
    const int n = std::max(1, m_opt.candidates);
    for (int i = 0; i < run.items.size(); ++i) {
        const WorkItem& w = run.items.at(i);
        const qint64 base = w.inputs.value(QStringLiteral("seed")).toInteger();
        QMap<QString, QString> images;
        if (kind == ItemKind::Keyframe) {
            const ShotRef* shot = inputs.shotList().find(w.key);
            int slot = 0;
            for (const QString& ref : shot && characterSlots ? inputs.referencesOfShot(*shot) : QStringList()) {
                const ReferenceEntry* e = m_state.findReference(ref);
                const Candidate* sheet = e && e->track.approved ? e->track.selectedCandidate() : nullptr;
                if (sheet)
                    images.insert(QStringLiteral("character_reference_image[%1]").arg(slot++), sheet->file);
            }
            if (!m_story->style.referenceImage.isEmpty() && profile.hasRole(comfy::Role::StyleReferenceImage)) {
                const ReferenceEntry* e = m_state.findReference(StoryboardKeys::style());
                if (const Candidate* c = e ? e->track.selectedCandidate() : nullptr)
                    images.insert(QStringLiteral("style_reference_image"), c->file);
            }
        }
        for (int c = 1; c <= n; ++c) {
            story::StoryScene sc;
            sc.id = QStringLiteral("scene-%1").arg(rs.scenes.size() + 1, 3, 10, QLatin1Char('0'));
            sc.title = QStringLiteral("%1 %2 c%3").arg(kindLabel(w.kind), w.key).arg(c);
            sc.prompt = w.inputs.value(QStringLiteral("prompt")).toString();
            sc.negativePrompt = w.inputs.value(QStringLiteral("negative")).toString();
            sc.expectedFrames = 1;
            sc.images = images;
            const qint64 seed = base + c - 1;
            sc.raw.insert(QStringLiteral("seed"), seed); // the render uses the seed the inputs record
            sc.raw.insert(QStringLiteral("storyboardItem"),
                          QJsonObject{{QStringLiteral("kind"), kindJsonName(w.kind)},
                                      {QStringLiteral("key"), w.key},
                                      {QStringLiteral("version"), 0},
                                      {QStringLiteral("candidate"), c},
                                      {QStringLiteral("seed"), seed},
                                      {QStringLiteral("inputHash"), w.inputHash}});
            rs.scenes << sc;
            run.slots << SceneSlot{i, c, seed};
        }
    }

    pipeline::RunOptions ro = m_opt.render;
    ro.story = rs;
    ro.storyDir = m_dir;
    ro.runsRoot = QDir(m_dir).filePath(QStringLiteral("runs"));
    ro.workflow = profileName;
    ro.existingRunDir.clear();
    ro.resume.reset();
    ro.policy.frameFloor = 1; // a reference sheet or keyframe is one still
    if (ro.storyGenerator.isEmpty())
        ro.storyGenerator = QStringLiteral("file");
    if (ro.llmHealth.skipReason.isEmpty()) {
        ro.llmHealth.status = QStringLiteral("skipped");
        ro.llmHealth.skipped = true;
        ro.llmHealth.skipReason = QStringLiteral("storyboard stage: the story comes from the storyboard directory");
        ro.llmHealth.timestamp = QDateTime::currentDateTimeUtc();
    }
    QDir().mkpath(ro.runsRoot);
    Q_EMIT message(QStringLiteral("%1: %2 item(s) × %3 candidate(s) with profile '%4'")
                       .arg(StoryboardPlan::stageName(step))
                       .arg(run.items.size())
                       .arg(n)
                       .arg(profileName));
    m_controller = new pipeline::RunController(ro, m_monitor, this);
    connect(m_controller, &pipeline::RunController::finished, this, &StoryboardController::onRunFinished);
    Q_EMIT runStarted(m_controller);
    m_controller->start();
}


void StoryboardController::onRunFinished(int exitCode, const QString& text)
{
    pipeline::RunController* rc = m_controller;
    if (!m_run || !rc)
        return;
    // A cancelled render still leaves the scenes that finished before the cancel: finished GPU work
    // is stored and recorded like any other (the import paths then end the stage with 130).
    bool renderedAny = false;
    for (const telemetry::SceneRecord& scene : rc->record().scenes)
        if (const telemetry::AttemptRecord* kept = scene.kept();
            kept && scene.status == QLatin1String("succeeded") && !kept->frames.isEmpty())
            renderedAny = true;
    const bool cancelled = m_run->cancelled || exitCode == int(pipeline::RunExit::Interrupted);
    if (exitCode == int(pipeline::RunExit::BadInput) || exitCode == int(pipeline::RunExit::Unreachable) ||
        (cancelled && !renderedAny)) {
        const int code = cancelled ? int(pipeline::RunExit::Interrupted) : exitCode;
        rc->deleteLater();
        m_controller = nullptr;
        finishStage(code, text);
        return;
    }
    if (cancelled) {
        m_run->cancelled = true;
        Q_EMIT message(QStringLiteral("cancelled: storing what finished rendering before the cancel"));
    }
    if (kindOfStep(m_run->steps.front()) == ItemKind::Clip) {
        m_run->clipRunDir = rc->record().runDir;
        m_run->clipRunExit = exitCode;
        importClips(rc->record());
        rc->deleteLater();
        m_controller = nullptr;
        if (exitCode == int(pipeline::RunExit::SomeFailed))
            m_run->exitCode = 1;
        return; // goes on in onClipsImported()
    }
    importOutputs();
    rc->deleteLater();
    m_controller = nullptr;
    if (exitCode == int(pipeline::RunExit::SomeFailed))
        m_run->exitCode = 1;
    // The stage goes on in onImported(), once the outputs are stored.
}

// The outputs of the front pass are stored (or the import gave up): the next pass, the judge, or
// the next step.
void StoryboardController::afterImport()
{
    // The next profile's pass of the same step (keyframes: the text keyframes after the anchored ones);
    // keyframe verdicts come once every pass is imported.
    if (!m_run->passes.isEmpty())
        m_run->passes.pop_front();
    if (m_run->cancelled) {
        // What the finished render made is stored; keyframes without verdicts wait for the operator.
        storePending(true);
        finishStage(int(pipeline::RunExit::Interrupted), QStringLiteral("cancelled"));
        return;
    }
    if (!m_run->passes.isEmpty()) {
        startRenderPass();
        return;
    }
    if (kindOfStep(m_run->steps.front()) == ItemKind::Keyframe)
        startJudging();
    else {
        m_run->steps.pop_front();
        runNextStep();
    }
}

// Video step: one pipeline run per pass through RenderStoryBuilder (the same render stories as
// `gemdirect run --storyboard`); a shot that continues from another renders in the pass after it.
void StoryboardController::startVideoPass()
{
    StageRun& run = *m_run;
    if (run.cancelled) {
        finishStage(int(pipeline::RunExit::Interrupted), QStringLiteral("cancelled"));
        return;
    }
    const StoryboardInputs inputs(*m_story, m_state, inputContext());
    PlanOptions po;
    po.allowTextOnly = m_opt.allowTextOnly;
    const Plan vp = StoryboardPlan::build(PlanStage::VideoForApproved, inputs, staleness(), po);
    VideoRenderOptions vo;
    vo.keys = run.keys;
    vo.includeFresh = !run.keys.isEmpty(); // clips asked for by name render again
    vo.done = run.clipsDone;
    vo.chainCap = m_opt.chainCap;
    const VideoRenderStory vr = RenderStoryBuilder::buildVideo(*m_story, m_state, vp, vo);
    ++run.clipPass;
    if (run.clipPass == 1)
        for (const BlockedItem& b : vr.blocked)
            Q_EMIT message(QStringLiteral("skipped: clip %1: %2").arg(b.key, b.message));
    if (vr.items.isEmpty()) {
        for (const QString& key : vr.waiting)
            Q_EMIT message(QStringLiteral("skipped: clip %1: the shot it continues from was not rendered").arg(key));
        if (run.clipPass == 1)
            Q_EMIT message(QStringLiteral("%1: nothing to render").arg(StoryboardPlan::stageName(PlanStage::VideoForApproved)));
        run.steps.pop_front();
        runNextStep();
        return;
    }
    QStringList loadErrors;
    const auto profile =
        comfy::WorkflowProfileLoader::resolve(m_opt.videoProfile, m_opt.render.profileSearchDirs, &loadErrors);
    if (!profile) {
        finishStage(2, QStringLiteral("video profile '%1' cannot be loaded: %2")
                           .arg(m_opt.videoProfile, loadErrors.join(QStringLiteral("; "))));
        return;
    }
    // A bookend shot's end keyframe goes to end_image when the profile maps it; a profile without
    // end_image renders every shot from its start image alone (lastFrame ignored), so what the profile
    // must map is what a single-image shot needs.
    if (const QStringList problems = profile->requiredRolesFor(comfy::Purpose::Video, comfy::ShotNeeds{});
        !problems.isEmpty()) {
        finishStage(2, problems.join(QStringLiteral("; ")));
        return;
    }
    if (run.clipPass == 1 && !profile->hasRole(comfy::Role::EndImage)) {
        int bookends = 0;
        for (const WorkItem& w : vr.items)
            if (const ShotRef* shot = inputs.shotList().find(w.key); shot && StoryboardInputs::isBookend(*shot))
                ++bookends;
        if (bookends > 0)
            Q_EMIT message(QStringLiteral("video profile '%1' maps no end_image: the lastFrame of %2 shot(s) is "
                                          "ignored (their end keyframes are not used)")
                               .arg(m_opt.videoProfile)
                               .arg(bookends));
    }
    run.clipItems = vr.items;
    run.clipRender = vr;
    run.profileName = m_opt.videoProfile;
    pipeline::RunOptions ro = m_opt.render;
    ro.story = vr.story;
    ro.storyDir = m_dir;
    ro.runsRoot = QDir(m_dir).filePath(QStringLiteral("runs"));
    ro.workflow = m_opt.videoProfile;
    ro.existingRunDir.clear();
    ro.resume.reset();
    ro.storyGenerator = QStringLiteral("file");
    ro.llmHealth.status = QStringLiteral("skipped");
    ro.llmHealth.skipped = true;
    ro.llmHealth.skipReason = QStringLiteral("storyboard video pass: the story comes from the storyboard directory");
    ro.llmHealth.timestamp = QDateTime::currentDateTimeUtc();
    QDir().mkpath(ro.runsRoot);
    QString line = QStringLiteral("Video pass %1: %2 clip(s) with profile '%3'")
                       .arg(run.clipPass)
                       .arg(vr.items.size())
                       .arg(m_opt.videoProfile);
    if (!vr.waiting.isEmpty())
        line += QStringLiteral("; %1 chained shot(s) wait for the next pass").arg(vr.waiting.size());
    Q_EMIT message(line);
    m_controller = new pipeline::RunController(ro, m_monitor, this);
    connect(m_controller, &pipeline::RunController::finished, this, &StoryboardController::onRunFinished);
    Q_EMIT runStarted(m_controller);
    m_controller->start();
}

// Stores the clips of the finished video pass: ClipImporter plans each scene's files, StoryboardImporter
// links them (and hashes each last frame) on the thread pool, onClipsImported() records the versions.
void StoryboardController::importClips(const telemetry::RunRecord& record)
{
    StageRun& run = *m_run;
    run.clipRecord = record;
    run.clipPlans.clear();
    QVector<ImportJob> jobs;
    for (int i = 0; i < run.clipItems.size(); ++i) {
        const WorkItem& w = run.clipItems.at(i);
        if (i >= record.scenes.size()) {
            Q_EMIT message(QStringLiteral("clip %1: the run has no scene for it").arg(w.key));
            run.exitCode = std::max(run.exitCode, 1);
            continue;
        }
        ClipImporter::ScenePlan plan;
        if (const Error e = ClipImporter::planScene(m_dir, m_state, w, record, record.scenes.at(i), plan); !e.isNull()) {
            Q_EMIT message(e.message);
            run.exitCode = std::max(run.exitCode, 1);
            continue;
        }
        run.clipPlans << PlannedClip{i, int(jobs.size()), plan};
        jobs << plan.jobs;
    }
    runImport(std::move(jobs), &StoryboardController::onClipsImported);
}

void StoryboardController::onClipsImported(const QVector<ImportResult>& results)
{
    StageRun& run = *m_run;
    int imported = 0;
    for (const PlannedClip& pc : std::as_const(run.clipPlans)) {
        const WorkItem& w = run.clipItems.at(pc.item);
        const Error e = ClipImporter::applyScene(m_state, w, run.clipRecord, run.clipRecord.scenes.at(pc.item), pc.plan,
                                                 results.mid(pc.firstJob, pc.plan.jobs.size()), m_opt.videoProfile);
        if (e.isNull()) {
            ++imported;
        } else {
            Q_EMIT message(e.message);
            run.exitCode = std::max(run.exitCode, 1);
        }
    }
    run.clipPlans.clear();
    for (const WorkItem& w : std::as_const(run.clipItems))
        run.clipsDone.insert(w.key);
    if (imported > 0) {
        if (const Error e = saveState(); !e.isNull()) {
            Q_EMIT message(QStringLiteral("cannot save storyboard.json: %1").arg(e.message));
            run.exitCode = std::max(run.exitCode, 1);
        }
        invalidate();
        for (const WorkItem& w : std::as_const(run.clipItems)) {
            const ShotEntry* shot = m_state.findShot(w.key);
            if (shot && !shot->clip.versions.isEmpty())
                Q_EMIT itemRendered(ItemKind::Clip, w.key, shot->clip.versions.constLast().version);
        }
        Q_EMIT stateChanged();
    }
    Q_EMIT message(QStringLiteral("Video pass %1: %2 clip(s) stored under %3")
                       .arg(run.clipPass)
                       .arg(imported)
                       .arg(QDir(m_dir).filePath(QStringLiteral("clips"))));
    measureVideoPass();
}

// The pass's storyboard verdicts go into its run directory (VideoRunJudgements, on the thread pool),
// then its end-of-run quality step runs as the app's RunSession runs it, so the pass's artifact has
// the storyboard metrics exactly as after `gemdirect run --storyboard`. A cancelled stage skips both
// (its clips are stored already) and ends in startVideoPass().
void StoryboardController::measureVideoPass()
{
    StageRun& run = *m_run;
    const bool rendered = run.clipRunExit == int(pipeline::RunExit::Success) ||
                          run.clipRunExit == int(pipeline::RunExit::SomeFailed);
    if (run.cancelled || !rendered || run.clipRunDir.isEmpty()) {
        startVideoPass();
        return;
    }
    Q_EMIT message(QStringLiteral("Video pass %1: quality step for %2 ...").arg(run.clipPass).arg(run.clipRunDir));
    run.judgementsWatcher = std::make_unique<QFutureWatcher<std::pair<Error, QString>>>();
    QFutureWatcher<std::pair<Error, QString>>* watcher = run.judgementsWatcher.get();
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher] {
        if (!m_run || m_run->judgementsWatcher.get() != watcher)
            return;
        const auto [error, warning] = watcher->result();
        m_run->judgementsWatcher.release()->deleteLater(); // this runs inside its finished()
        if (!warning.isEmpty())
            Q_EMIT message(QStringLiteral("storyboard verdicts not usable: %1").arg(warning));
        if (!error.isNull())
            Q_EMIT message(QStringLiteral("storyboard metrics of %1 not recorded: %2").arg(m_run->clipRunDir, error.message));
        startPassQuality();
    });
    watcher->setFuture(QtConcurrent::run([dir = m_dir, runDir = run.clipRunDir, story = *m_story, state = m_state,
                                          render = run.clipRender] {
        QString warning;
        const Error e = VideoRunJudgements::writeForRun(dir, runDir, story, state, render, &warning);
        return std::make_pair(e, warning);
    }));
}

void StoryboardController::startPassQuality()
{
    StageRun& run = *m_run;
    if (run.cancelled) {
        startVideoPass();
        return;
    }
    pipeline::RunQualityOptions q;
    if (m_opt.llmUrl.isValid() && !m_opt.llmUrl.isEmpty())
        q.judgeUrl = m_opt.llmUrl.toString();
    q.historyDb = m_opt.render.historyDatabase;
    pipeline::RunQualityJob* job =
        pipeline::RunQualityJob::forFinishedRun(run.clipRunDir, run.clipRunExit, q, m_monitor, this);
    if (!job) {
        startVideoPass();
        return;
    }
    run.quality = job;
    const QString runDir = run.clipRunDir;
    const int pass = run.clipPass;
    connect(job, &pipeline::RunQualityJob::progress, this, [this, pass](const QString& line) {
        Q_EMIT message(QStringLiteral("Video pass %1: quality step: %2").arg(pass).arg(line));
    });
    connect(job, &pipeline::RunQualityJob::finished, this,
            [this, job, runDir, pass](const pipeline::RunQualityResult& result) {
                job->deleteLater();
                if (!m_run || m_run->quality != job)
                    return;
                m_run->quality = nullptr;
                for (const QString& w : result.warnings)
                    Q_EMIT message(QStringLiteral("Video pass %1: quality step: %2").arg(pass).arg(w));
                const auto& c = result.computation;
                if (!c.error.isNull())
                    Q_EMIT message(QStringLiteral("Video pass %1: quality metrics not computed: %2").arg(pass).arg(c.error.message));
                else
                    Q_EMIT message(QStringLiteral("Video pass %1: quality step done%2: %3 metric(s) UNMEASURED; "
                                                  "`gemdirect kpi %4` shows the KPI table")
                                       .arg(pass)
                                       .arg(result.cancelled ? QStringLiteral(" (cancelled)") : QString())
                                       .arg(c.qualityMetrics.value(QStringLiteral("Unmeasured")).toArray().size())
                                       .arg(runDir));
                startVideoPass(); // the chained shots that waited for this pass; ends the step when none are left
            });
    job->start();
}

// Stores each item's rendered candidates in the storyboard directory: the hard links and SHA-256s run
// on the thread pool (StoryboardImporter, DESIGN.md §3: no file work on the GUI thread); onImported()
// continues on this thread.
void StoryboardController::importOutputs()
{
    StageRun& run = *m_run;
    const telemetry::RunRecord& rec = m_controller->record();
    QVector<int> perItemCount(run.items.size(), 0);
    QVector<ImportJob> jobs;
    run.importing.clear();
    for (int s = 0; s < run.slots.size() && s < rec.scenes.size(); ++s) {
        const SceneSlot& slot = run.slots.at(s);
        const WorkItem& w = run.items.at(slot.item);
        const telemetry::SceneRecord& scene = rec.scenes.at(s);
        const telemetry::AttemptRecord* kept = scene.kept();
        if (scene.status != QLatin1String("succeeded") || !kept || kept->frames.isEmpty()) {
            Q_EMIT message(QStringLiteral("%1 %2 candidate %3 failed: %4")
                               .arg(kindLabel(w.kind), w.key)
                               .arg(slot.candidate)
                               .arg(scene.errors.isEmpty() ? scene.status : scene.errors.join(QStringLiteral("; "))));
            continue;
        }
        const QString src = QDir(rec.runDir).filePath(kept->framesDir + QLatin1Char('/') + kept->frames.first());
        const ImageTrack* track = m_state.imageTrack(w.kind, w.key);
        int next = 1;
        for (const ImageVersion& v : track ? track->versions : QVector<ImageVersion>())
            next = std::max(next, v.version + 1);
        const QString relDir = w.kind == ItemKind::Reference     ? StoryboardKeys::referenceDir(w.key)
                               : w.kind == ItemKind::EndKeyframe ? StoryboardKeys::endKeyframeDir(w.key)
                                                                 : StoryboardKeys::keyframeDir(w.key);
        const QString suffix = QFileInfo(src).suffix().isEmpty() ? QStringLiteral("png") : QFileInfo(src).suffix().toLower();
        const QString rel = relDir + QStringLiteral("/v%1-c%2.%3").arg(next).arg(++perItemCount[slot.item]).arg(suffix);
        ImportingCandidate ic;
        ic.item = slot.item;
        ic.candidate.file = rel;
        ic.candidate.seed = kept->seed;
        ic.candidate.durationMs = qint64(kept->durationSeconds * 1000);
        ic.candidate.raw.insert(QStringLiteral("run"), QFileInfo(rec.runDir).fileName());
        ic.candidate.raw.insert(QStringLiteral("scene"), scene.sceneId);
        run.importing << ic;
        jobs << ImportJob{src, QDir(m_dir).filePath(rel)};
    }
    runImport(std::move(jobs), &StoryboardController::onImported);
}

// Runs the jobs on the thread pool; `then` gets the results on this thread. The watcher belongs to the
// stage: a stage (or controller) gone before the import ends never hears from it, and the worker only
// finishes its files. A stage cancelled meanwhile still records what was rendered (finished GPU work
// is never thrown away): `then` stores it and saves storyboard.json, and the stage ends with 130 after.
void StoryboardController::runImport(QVector<ImportJob> jobs,
                                     void (StoryboardController::*then)(const QVector<ImportResult>&))
{
    m_run->importWatcher = std::make_unique<QFutureWatcher<QVector<ImportResult>>>();
    QFutureWatcher<QVector<ImportResult>>* watcher = m_run->importWatcher.get();
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, then] {
        if (!m_run || m_run->importWatcher.get() != watcher)
            return;
        const QVector<ImportResult> results = watcher->result();
        m_run->importWatcher.release()->deleteLater(); // this runs inside its finished()
        (this->*then)(results);
    });
    watcher->setFuture(StoryboardImporter::start(std::move(jobs)));
}

// Applies the stored files on the owner thread: new versions (references at once, keyframes pending
// their verdicts), storyboard.json saved, then the stage moves on.
void StoryboardController::onImported(const QVector<ImportResult>& results)
{
    StageRun& run = *m_run;
    const ItemKind kind = kindOfStep(run.steps.front());
    const StoryboardInputs inputs(*m_story, m_state, inputContext());
    QVector<QVector<Candidate>> perItem(run.items.size());
    for (int j = 0; j < run.importing.size() && j < results.size(); ++j) {
        const ImportingCandidate& ic = run.importing.at(j);
        const WorkItem& w = run.items.at(ic.item);
        const ImportResult& r = results.at(j);
        if (!r.ok()) {
            Q_EMIT message(QStringLiteral("%1 %2: cannot store %3: %4").arg(kindLabel(w.kind), w.key, ic.candidate.file, r.error));
            continue;
        }
        Candidate c = ic.candidate;
        c.sha256 = r.sha256;
        perItem[ic.item] << c;
    }
    run.importing.clear();

    for (int i = 0; i < run.items.size(); ++i) {
        const WorkItem& w = run.items.at(i);
        if (perItem.at(i).isEmpty()) {
            if (run.cancelled) { // never rendered: the cancel came first; nothing failed
                Q_EMIT message(QStringLiteral("%1 %2: not rendered (cancelled)").arg(kindLabel(w.kind), w.key));
                continue;
            }
            ++run.failures;
            run.exitCode = 1;
            Q_EMIT message(QStringLiteral("%1 %2: no candidate rendered").arg(kindLabel(w.kind), w.key));
            continue;
        }
        ImageVersion v;
        v.inputHash = w.inputHash;
        v.inputs = w.inputs;
        v.candidates = perItem.at(i);
        v.source = QStringLiteral("rendered");
        v.profile = run.profileName;
        v.profileHash = run.profileHash;
        v.model = w.inputs.value(QStringLiteral("model")).toString();
        if (w.textOnly)
            v.raw.insert(QStringLiteral("textOnly"), true);
        if (kind == ItemKind::Reference) {
            if (m_opt.autoApprove) {
                v.chosen = 1;
                v.chosenBy = ChosenBy::Operator;
            }
            const int number = m_state.addReferenceVersion(w.key, v);
            if (m_opt.autoApprove && number > 0) {
                m_state.approve(ItemKind::Reference, w.key);
                Q_EMIT message(QStringLiteral("--auto-approve: sheet %1 v%2 candidate 1 approved").arg(w.key).arg(number));
            }
            Q_EMIT itemRendered(ItemKind::Reference, w.key, number);
            continue;
        }
        PendingVersion pv;
        pv.item = w;
        pv.version = v;
        const ShotRef* shot = inputs.shotList().find(w.key);
        for (const Candidate& c : v.candidates) {
            quality::KeyframeJudgeInput in;
            in.candidatePath = QDir(m_dir).filePath(c.file);
            in.description = w.inputs.value(QStringLiteral("prompt")).toString();
            for (const story::ShotCharacter& sc : shot ? shot->shot.visibleCharacters : QVector<story::ShotCharacter>()) {
                quality::KeyframeCharacter kc;
                kc.name = sc.name;
                const ReferenceEntry* e = m_state.findReference(StoryboardKeys::character(sc.name, sc.look));
                const Candidate* sheet = e && e->track.approved ? e->track.selectedCandidate() : nullptr;
                if (sheet)
                    kc.sheetPath = QDir(m_dir).filePath(sheet->file);
                in.characters << kc;
            }
            pv.judgeInputs << in;
        }
        pv.verdicts.resize(v.candidates.size());
        run.pending << pv;
    }
    const Error e = saveState();
    if (!e.isNull()) {
        Q_EMIT message(QStringLiteral("cannot save storyboard.json: %1").arg(e.message));
        run.exitCode = 1;
    }
    invalidate();
    Q_EMIT stateChanged();
    afterImport();
}

void StoryboardController::startJudging()
{
    StageRun& run = *m_run;
    run.judgeIndex = 0;
    if (run.pending.isEmpty()) {
        run.steps.pop_front();
        runNextStep();
        return;
    }
    if (run.judgeState == 0) {
        if (!m_opt.llmUrl.isValid() || m_opt.llmUrl.isEmpty()) {
            run.judgeState = 2;
            run.noJudgeWhy = QStringLiteral("no LLM server configured");
        } else {
            run.llm = std::make_unique<llm::LlmClient>(m_opt.llmUrl);
            if (!m_opt.llmApiKey.isEmpty())
                run.llm->setApiKey(m_opt.llmApiKey);
            quality::KeyframeJudgeOptions jo;
            jo.visionModel = m_opt.judgeModel;
            run.judge = std::make_unique<quality::KeyframeJudge>(run.llm.get(), jo);
            run.judge->selectModel(this, [this](const quality::VisionModelChoice& choice) {
                if (!m_run)
                    return;
                if (choice.model) {
                    m_run->judgeState = 1;
                    Q_EMIT message(QStringLiteral("keyframe judge: %1").arg(*choice.model));
                } else {
                    m_run->judgeState = 2;
                    m_run->noJudgeWhy = choice.error.message;
                }
                startJudging();
            });
            return;
        }
    }
    if (run.judgeState == 2)
        Q_EMIT message(QStringLiteral("no vision model: choose the keyframes yourself (%1); storyboard metrics UNMEASURED")
                           .arg(run.noJudgeWhy));
    judgeNext();
}

void StoryboardController::judgeNext()
{
    StageRun& run = *m_run;
    if (run.cancelled) {
        // The rendered candidates are kept: stored with the verdicts given so far, nothing chosen.
        storePending(true);
        finishStage(int(pipeline::RunExit::Interrupted), QStringLiteral("cancelled"));
        return;
    }
    // Flattened walk over (pending version, candidate).
    int flat = run.judgeIndex;
    for (int p = 0; run.judgeState == 1 && p < run.pending.size(); ++p) {
        PendingVersion& pv = run.pending[p];
        if (flat >= pv.judgeInputs.size()) {
            flat -= pv.judgeInputs.size();
            continue;
        }
        const int c = flat;
        run.judge->judge(pv.judgeInputs.at(c), this, [this, p, c](const quality::KeyframeVerdict& v) {
            if (!m_run)
                return;
            m_run->pending[p].verdicts[c] = v;
            if (!v.ok())
                Q_EMIT message(QStringLiteral("judge: %1 candidate %2: %3")
                                   .arg(m_run->pending.at(p).item.key)
                                   .arg(c + 1)
                                   .arg(v.error.message));
            ++m_run->judgeIndex;
            judgeNext();
        });
        return;
    }

    // Every candidate judged (or no judge): store the versions with their verdicts and picks.
    storePending(false);
    run.keyframesRendered = true;
    run.steps.pop_front();
    runNextStep();
}

// Records the rendered keyframe versions waiting for verdicts and saves storyboard.json. After judging:
// with the verdicts and the judge's (or --auto-approve's) pick. Cancelled: the finished GPU work is
// kept all the same, as versions without verdicts and with nothing chosen, for the operator to choose.
void StoryboardController::storePending(bool cancelled)
{
    StageRun& run = *m_run;
    if (run.pending.isEmpty())
        return;
    for (PendingVersion& pv : run.pending) {
        ImageVersion v = pv.version;
        const QString& key = pv.item.key;
        QString pickNote;
        if (cancelled) {
            // Verdicts come for every candidate or not at all: the operator compares them.
            pickNote = QStringLiteral("stored without verdicts (stage cancelled before judging finished): "
                                      "nothing chosen, choose a candidate yourself");
        } else if (run.judgeState == 1) {
            for (int c = 0; c < v.candidates.size(); ++c)
                if (pv.verdicts.at(c).ok())
                    v.candidates[c].judge = toStored(pv.verdicts.at(c));
            const quality::BestOfChoice best = quality::KeyframeJudge::bestOf(pv.verdicts);
            if (best.index >= 0) {
                v.chosen = best.index + 1;
                v.chosenBy = ChosenBy::Judge;
                pickNote = QStringLiteral("judge chose candidate %1 (%2)").arg(best.index + 1).arg(best.why);
            } else {
                pickNote = QStringLiteral("no candidate could be judged: choose one yourself");
            }
        }
        if (!cancelled && !v.chosen && m_opt.autoApprove) {
            v.chosen = 1;
            v.chosenBy = ChosenBy::Operator;
            pickNote = QStringLiteral("--auto-approve took candidate 1 (no judge verdict)");
        }
        const ItemKind itemKind = pv.item.kind;
        const int number = itemKind == ItemKind::EndKeyframe ? m_state.addEndKeyframeVersion(key, v)
                                                             : m_state.addKeyframeVersion(key, v);
        if (number <= 0)
            continue;
        if (m_opt.autoApprove && v.chosen)
            m_state.approve(itemKind, key);
        Q_EMIT message(QStringLiteral("%1 %2 v%3: %4%5")
                           .arg(kindLabel(itemKind), key)
                           .arg(number)
                           .arg(pickNote.isEmpty() ? QStringLiteral("waiting for your choice") : pickNote)
                           .arg(m_opt.autoApprove && v.chosen ? QStringLiteral(", approved") : QString()));
        Q_EMIT itemRendered(itemKind, key, number);
        if (!cancelled && run.judgeState == 1)
            for (int c = 0; c < v.candidates.size(); ++c)
                if (v.candidates.at(c).judge)
                    Q_EMIT candidateJudged(operatorKey(itemKind, key), number, c + 1);
    }
    run.pending.clear();
    const Error e = saveState();
    if (!e.isNull()) {
        Q_EMIT message(QStringLiteral("cannot save storyboard.json: %1").arg(e.message));
        run.exitCode = 1;
    }
    invalidate();
    Q_EMIT stateChanged();
}

// Storyboard metrics over the selected keyframes: identity and count from the stored verdicts,
// sameness of consecutive shots and prompt alignment asked of the judge now.
void StoryboardController::writeMetrics()
{
    StageRun& run = *m_run;
    run.keyframesRendered = false;
    const StoryboardInputs inputs(*m_story, m_state, inputContext());
    auto shots = std::make_shared<QVector<quality::ShotJudgement>>();
    QStringList order;
    QStringList prompts;
    for (const ShotRef& ref : inputs.shotList().shots()) {
        const ShotEntry* e = m_state.findShot(ref.key);
        const Candidate* c = e ? e->keyframe.selectedCandidate() : nullptr;
        if (!c)
            continue;
        quality::ShotJudgement j;
        j.sceneId = ref.key.section(QLatin1Char('/'), 0, 0);
        j.shotId = ref.key.section(QLatin1Char('/'), 1);
        j.expectedCharacters = int(ref.shot.visibleCharacters.size());
        j.keyframeSha256 = c->sha256;
        if (c->judge) {
            j.keyframe = fromStored(*c->judge);
        } else {
            quality::KeyframeVerdict none;
            none.error = {QStringLiteral("no_model"),
                          run.judgeState == 2 ? QStringLiteral("no vision model: %1").arg(run.noJudgeWhy)
                                              : QStringLiteral("the selected candidate was not judged"),
                          {}};
            j.keyframe = none;
        }
        shots->append(j);
        order << ref.key;
        const ImageVersion* v = e->keyframe.selectedVersion();
        prompts << (v ? v->inputs.value(QStringLiteral("prompt")).toString() : QString());
    }
    auto pairs = std::make_shared<QVector<quality::SamenessJudgement>>();
    auto finish = [this, shots, pairs] {
        const quality::JudgeResults r = quality::StoryboardMetrics::compute(*shots, *pairs);
        QJsonObject perShot;
        for (auto it = r.scenes.cbegin(); it != r.scenes.cend(); ++it)
            perShot.insert(it.key(), it.value());
        QJsonObject doc{{QStringLiteral("storyboard"), m_dir},
                        {QStringLiteral("writtenAt"), QDateTime::currentDateTimeUtc().toString(Qt::ISODate)},
                        {QStringLiteral("run"), r.run},
                        {QStringLiteral("shots"), perShot},
                        {QStringLiteral("unmeasured"), QJsonArray::fromStringList(r.unmeasured)},
                        // The verdicts themselves: a video run takes those of the shots it renders.
                        {QStringLiteral("judgements"), quality::StoryboardJudgements{*shots, *pairs}.toJson()}};
        const QString path = QDir(m_dir).filePath(VideoRunJudgements::metricsFileName());
        const Error e = AtomicFile::write(path, QJsonDocument(doc).toJson(QJsonDocument::Indented));
        if (!e.isNull())
            Q_EMIT message(QStringLiteral("cannot write %1: %2").arg(path, e.message));
        else
            Q_EMIT message(QStringLiteral("storyboard metrics: %1%2")
                               .arg(path, r.unmeasured.isEmpty()
                                              ? QString()
                                              : QStringLiteral(" (%1 UNMEASURED)").arg(r.unmeasured.size())));
        finishStage(m_run->exitCode, QString());
    };
    if (run.judgeState != 1 || shots->isEmpty()) {
        finish();
        return;
    }
    // Calls run one at a time in the judge's queue; the last callback writes the file.
    const auto pairKeys = quality::StoryboardMetrics::samenessPairs(order);
    auto remaining = std::make_shared<int>(int(pairKeys.size() + shots->size()));
    auto doneOne = [this, remaining, finish] {
        if (--*remaining == 0 && m_run)
            finish();
    };
    for (const auto& pk : pairKeys) {
        const Candidate* a = m_state.findShot(pk.first)->keyframe.selectedCandidate();
        const Candidate* b = m_state.findShot(pk.second)->keyframe.selectedCandidate();
        run.judge->judgeSameness(QDir(m_dir).filePath(a->file), QDir(m_dir).filePath(b->file), this,
                                 [pairs, pk, doneOne](const quality::SamenessVerdict& v) {
                                     pairs->append(quality::SamenessJudgement{pk.first, pk.second, v});
                                     doneOne();
                                 });
    }
    for (int i = 0; i < shots->size(); ++i) {
        const Candidate* c = m_state.findShot(order.at(i))->keyframe.selectedCandidate();
        run.judge->judgeAlignment(QDir(m_dir).filePath(c->file), prompts.at(i), this,
                                  [shots, i, doneOne](const quality::AlignmentVerdict& v) {
                                      (*shots)[i].alignment = v;
                                      doneOne();
                                  });
    }
}

void StoryboardController::finishStage(int exitCode, const QString& text)
{
    if (!m_run)
        return;
    const StoryboardStage stage = m_run->stage;
    std::unique_ptr<StageRun> run = std::move(m_run);
    if (m_controller) {
        m_controller->disconnect(this);
        m_controller->deleteLater();
        m_controller = nullptr;
    }
    QStringList waiting;
    if (exitCode == 0 || exitCode == 1) {
        if (stage == StoryboardStage::References || stage == StoryboardStage::UpdateStale)
            waiting << unapproved(ItemKind::Reference);
        if (stage == StoryboardStage::Keyframes || stage == StoryboardStage::UpdateStale) {
            waiting << unapproved(ItemKind::Keyframe);
            for (const QString& key : unapproved(ItemKind::EndKeyframe))
                waiting << StoryboardKeys::endKeyframe(key);
        }
    }
    QString summary = text;
    if (summary.isEmpty())
        summary = exitCode == 0 ? QStringLiteral("%1 done").arg(stageName(stage))
                                : QStringLiteral("%1 done: %2 item(s) not rendered").arg(stageName(stage)).arg(run->failures);
    if (!waiting.isEmpty()) {
        Q_EMIT message(QStringLiteral("waiting for approval: %1 item(s)").arg(waiting.size()));
        Q_EMIT awaitingApproval(stage, waiting);
    }
    // The judge's objects go after their callbacks have returned.
    if (run->judge)
        run->judge.release()->deleteLater();
    if (run->llm)
        run->llm.release()->deleteLater();
    Q_EMIT stageFinished(stage, exitCode, summary);
}

// An operator's change to the state between stages: refused while a stage runs, saved at once,
// and staleness and views follow.
Error StoryboardController::applyEdit(const std::function<Error()>& change)
{
    if (isBusy())
        return {QStringLiteral("busy"), QStringLiteral("a storyboard stage is running"), {}};
    if (Error e = change(); !e.isNull())
        return e;
    const Error e = saveState();
    invalidate();
    Q_EMIT stateChanged();
    return e;
}

Error StoryboardController::choose(ItemKind kind, const QString& key, int version, int candidate)
{
    return applyEdit([&]() -> Error {
        Error e = m_state.choose(kind, key, version, candidate, ChosenBy::Operator);
        const ImageTrack* t = e.isNull() ? m_state.imageTrack(kind, key) : nullptr;
        if (t && t->selected != version)
            e = m_state.select(kind, key, version);
        return e;
    });
}

Error StoryboardController::approve(ItemKind kind, const QString& key)
{
    return applyEdit([&] { return m_state.approve(kind, key); });
}

Error StoryboardController::unapprove(ItemKind kind, const QString& key)
{
    return applyEdit([&] { return m_state.unapprove(kind, key); });
}

Error StoryboardController::upload(ItemKind kind, const QString& key, const QString& imagePath)
{
    if (isBusy())
        return {QStringLiteral("busy"), QStringLiteral("a storyboard stage is running"), {}};
    if (kind == ItemKind::Clip)
        return {QStringLiteral("invalidArgument"),
                QStringLiteral("clips cannot be uploaded: upload the shot's keyframe and render its clip"), {}};
    const StoryboardInputs inputs(*m_story, m_state, inputContext());
    QJsonObject recorded;
    if (kind == ItemKind::Reference) {
        if (!StoryboardKeys::isReferenceKey(key))
            return {QStringLiteral("invalidArgument"),
                    QStringLiteral("'%1' is not a reference key (character:NAME#LOOK, location:NAME or style)").arg(key),
                    {}};
        if (!inputs.referenceKeys().contains(key))
            return {QStringLiteral("notFound"), QStringLiteral("the story has no reference %1").arg(key), {}};
    } else {
        if (inputs.shotList().indexOf(key) < 0)
            return {QStringLiteral("notFound"), QStringLiteral("the story has no shot %1").arg(key), {}};
        // What a render would be made from now; a missing sheet makes it a text-only keyframe rather
        // than refusing the operator's own image.
        const CurrentInputs cur = kind == ItemKind::Keyframe      ? inputs.keyframe(key, true)
                                  : kind == ItemKind::EndKeyframe ? inputs.endKeyframe(key, true)
                                                                  : inputs.current(kind, key);
        if (!cur.blocked.isEmpty())
            return {QStringLiteral("blocked"), QStringLiteral("%1: %2").arg(key, cur.blocked), {}};
        recorded = cur.inputs;
    }
    // The profile whose hash the inputs record: the one a render of this keyframe would use now.
    QString profile;
    if (kind != ItemKind::Reference) {
        WorkItem w;
        w.kind = kind;
        w.key = key;
        w.inputs = recorded;
        profile = keyframeProfileFor(w);
    }
    int version = 0;
    const Error e =
        applyEdit([&] { return m_state.uploadImage(m_dir, kind, key, imagePath, recorded, &version, profile); });
    if (version > 0)
        Q_EMIT itemRendered(kind, key, version);
    return e;
}

Error StoryboardController::editShot(const QString& shotKey, const story::StoryShot& shot)
{
    if (isBusy())
        return {QStringLiteral("busy"), QStringLiteral("a storyboard stage is running"), {}};
    const QString sceneId = shotKey.section(QLatin1Char('/'), 0, 0);
    const QString shotId = shotKey.section(QLatin1Char('/'), 1);
    for (story::StoryScene& scene : m_story->scenes) {
        if (scene.id != sceneId)
            continue;
        if (scene.shots.isEmpty() && shotId == QLatin1String("shot-01")) {
            // The implicit shot becomes an explicit one: the scene now has a shot list.
            story::StoryShot s = shot;
            s.id = shotId;
            scene.shots << s;
        } else {
            auto it = std::find_if(scene.shots.begin(), scene.shots.end(),
                                   [&](const story::StoryShot& s) { return s.id == shotId; });
            if (it == scene.shots.end())
                break;
            story::StoryShot s = shot;
            s.id = shotId;
            if (s.raw.isEmpty())
                s.raw = it->raw;
            *it = s;
        }
        const Error e = saveStory();
        invalidate();
        Q_EMIT stateChanged();
        return e;
    }
    return {QStringLiteral("notFound"), QStringLiteral("the story has no shot %1").arg(shotKey), {}};
}

Error StoryboardController::editReferencePrompt(const QString& referenceKey, const QString& prompt)
{
    if (isBusy())
        return {QStringLiteral("busy"), QStringLiteral("a storyboard stage is running"), {}};
    const QString name = StoryboardKeys::displayName(referenceKey);
    bool found = false;
    if (referenceKey.startsWith(QLatin1String("location:"))) {
        for (story::StoryLocation& l : m_story->locations)
            if (l.name == name) {
                l.referencePrompt = prompt;
                found = true;
            }
    } else if (referenceKey.startsWith(QLatin1String("character:"))) {
        const int hash = name.lastIndexOf(QLatin1Char('#'));
        const QString who = name.left(hash);
        const QString look = name.mid(hash + 1);
        for (story::StoryCharacter& c : m_story->characters) {
            if (c.name != who)
                continue;
            for (story::CharacterLook& l : c.looks)
                if (l.id == look) {
                    l.referencePrompt = prompt;
                    found = true;
                }
            // The implicit look of a character without looks takes the character's prompt.
            if (look == QLatin1String("default") && (c.looks.isEmpty() || (found && c.looks.size() == 1))) {
                c.referencePrompt = prompt;
                found = true;
            }
        }
    }
    if (!found)
        return {QStringLiteral("notFound"), QStringLiteral("the story has no reference %1").arg(referenceKey), {}};
    m_story->bible = story::StoryLoader::bibleToJson(*m_story);
    const Error e = saveStory();
    invalidate();
    Q_EMIT stateChanged();
    return e;
}

} // namespace gd::storyboard
