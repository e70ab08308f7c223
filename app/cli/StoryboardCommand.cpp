#include "StoryboardCommand.h"

#include "storyboard/RenderStoryBuilder.h"

#include "CliCommon.h"
#include "HistoryCommands.h"
#include "ProgressPrinter.h"
#include "SignalWatcher.h"
#include "StoryCommand.h"

#include "comfy/ComfyClient.h"
#include "common/Log.h"
#include "gpu/GpuMonitor.h"
#include "sandbox/SandboxHost.h"
#include "sandbox/SandboxLlmHost.h"
#include "story/StoryLoader.h"
#include "storyboard/StoryboardController.h"
#include "storyboard/StoryboardKeys.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QEventLoop>
#include <QFileInfo>
#include <QProcessEnvironment>
#include <QTemporaryDir>

#include <memory>

using namespace gd;
using gd::storyboard::ItemKind;
using gd::storyboard::StoryboardController;
using gd::storyboard::StoryboardStage;

namespace {

const char* kDescription =
    "The storyboard flow, headless: reference sheets per character-look and location, keyframe candidates per "
    "shot anchored on the approved sheets and judged by a vision model, an approval gate, and staleness.\n\n"
    "  storyboard create (--story FILE | --idea TEXT [story options]) -o DIR\n"
    "  storyboard references DIR      render sheet candidates of every missing or stale reference\n"
    "  storyboard keyframes DIR       render keyframe candidates of every shot whose sheets are approved\n"
    "  storyboard [all] DIR           references, then keyframes; stops for approval unless --auto-approve\n"
    "  storyboard status DIR          item, version, chosen, judge score, approved, fresh/stale/blocked, estimates\n"
    "  storyboard approve DIR KEY [--candidate K] [--version N]   KEY: a sheet, a shot's keyframe or its end\n"
    "                                 keyframe (SCENE/SHOT#end)\n"
    "  storyboard upload DIR KEY FILE   an image of your own as the approved sheet (reference KEY), keyframe\n"
    "                                 (shot KEY) or end keyframe (SCENE/SHOT#end); a keyframe goes stale like a\n"
    "                                 rendered one when its inputs change\n"
    "  storyboard reroll DIR KEY      a new version of a sheet, keyframe or end keyframe (SCENE/SHOT#end) with new seeds\n"
    "  storyboard update-stale DIR    re-render only the stale items, sheets before keyframes\n\n"
    "Keys: references are character:NAME#LOOK, location:NAME or style; shots are SCENE/SHOT "
    "(scene-001/shot-01). A shot with a lastFrame (a bookend shot) also has an end keyframe, keyed SCENE/SHOT#end: "
    "the keyframes stage renders and judges it like the keyframe, and a bookend video profile (one mapping "
    "end_image) needs it approved and uploads it as end_image; a profile without end_image ignores lastFrame. "
    "Clips render with `gemdirect run --storyboard DIR`.\n\n"
    "Exit codes: 0 done — also when items wait for your approval (the line \"waiting for approval: N item(s)\" "
    "says so), 1 some item failed to render, 2 bad input or usage (the message names it; nothing rendered), "
    "3 ComfyUI or the LLM unreachable, 130 interrupted (Ctrl-C).";

const QStringList kActions{QStringLiteral("create"),  QStringLiteral("references"), QStringLiteral("keyframes"),
                           QStringLiteral("all"),     QStringLiteral("status"),     QStringLiteral("approve"),
                           QStringLiteral("upload"),  QStringLiteral("reroll"),     QStringLiteral("update-stale")};

int usage(const QString& text)
{
    cli::err() << "gemdirect storyboard: " << text << "\nSee gemdirect storyboard --help." << Qt::endl;
    return 2;
}

QString freshnessText(storyboard::Freshness f)
{
    switch (f) {
    case storyboard::Freshness::Fresh: return QStringLiteral("fresh");
    case storyboard::Freshness::Stale: return QStringLiteral("stale");
    case storyboard::Freshness::Missing: return QStringLiteral("missing");
    case storyboard::Freshness::Blocked: return QStringLiteral("blocked");
    }
    return {};
}

QString kindText(ItemKind k)
{
    switch (k) {
    case ItemKind::Reference: return QStringLiteral("sheet");
    case ItemKind::Keyframe: return QStringLiteral("keyframe");
    case ItemKind::EndKeyframe: return QStringLiteral("end-frame");
    case ItemKind::Clip: return QStringLiteral("clip");
    }
    return {};
}

int printStatus(const StoryboardController& c)
{
    QTextStream& o = cli::out();
    const storyboard::StalenessReport report = c.staleness();
    o << QStringLiteral("%1 %2 %3 %4 %5 %6 %7")
             .arg(QStringLiteral("KIND"), -9)
             .arg(QStringLiteral("ITEM"), -36)
             .arg(QStringLiteral("VER"), -4)
             .arg(QStringLiteral("CHOSEN"), -12)
             .arg(QStringLiteral("SCORE"), -6)
             .arg(QStringLiteral("APPROVED"), -9)
             .arg(QStringLiteral("STATE"))
      << Qt::endl;
    for (const storyboard::ItemStatus& st : report.items) {
        QString version = QStringLiteral("-"), chosen = QStringLiteral("-"), score = QStringLiteral("-");
        bool approved = false;
        bool styleUnused = false; // the rendered keyframe's profile had no slot for the style image
        if (st.kind == ItemKind::Clip) {
            const storyboard::ShotEntry* e = c.state().findShot(st.key);
            if (e && e->clip.selected)
                version = QStringLiteral("v%1").arg(*e->clip.selected);
            approved = e && e->clip.approved;
        } else if (const storyboard::ImageTrack* t = c.state().imageTrack(st.kind, st.key)) {
            approved = t->approved;
            if (const storyboard::ImageVersion* v = t->selectedVersion()) {
                version = QStringLiteral("v%1").arg(v->version);
                if (v->chosen)
                    chosen = QStringLiteral("c%1 %2")
                                 .arg(*v->chosen)
                                 .arg(v->chosenBy == storyboard::ChosenBy::Judge      ? QStringLiteral("judge")
                                      : v->chosenBy == storyboard::ChosenBy::Operator ? QStringLiteral("operator")
                                                                                       : QString());
                if (const storyboard::Candidate* cand = v->chosenCandidate(); cand && cand->judge)
                    score = QString::number(cand->judge->score, 'f', 1);
                if (v->raw.value(QStringLiteral("textOnly")).toBool())
                    chosen += QStringLiteral(" text-only");
                styleUnused = v->inputs.value(QStringLiteral("styleReferenceUnused")).toBool();
            }
        }
        QString state = freshnessText(st.freshness);
        if (!st.reasons.isEmpty())
            state += QStringLiteral(": ") + st.reasons.join(QStringLiteral("; "));
        if (styleUnused)
            state += QStringLiteral(" (style reference image not used: its keyframe profile maps no "
                                    "style_reference_image)");
        if (st.kind == ItemKind::EndKeyframe && !c.usesEndKeyframes())
            state += QStringLiteral(" (not used: the video profile maps no end_image, lastFrame is ignored)");
        o << QStringLiteral("%1 %2 %3 %4 %5 %6 %7")
                 .arg(kindText(st.kind), -9)
                 .arg(st.kind == ItemKind::EndKeyframe ? storyboard::StoryboardKeys::endKeyframe(st.key) : st.key, -36)
                 .arg(version, -4)
                 .arg(chosen.trimmed(), -12)
                 .arg(score, -6)
                 .arg(approved ? QStringLiteral("yes") : QStringLiteral("no"), -9)
                 .arg(state)
          << Qt::endl;
    }
    o << Qt::endl << "Estimated GPU time:" << Qt::endl;
    for (StoryboardStage s : {StoryboardStage::References, StoryboardStage::Keyframes, StoryboardStage::Video,
                              StoryboardStage::UpdateStale}) {
        const storyboard::StageEstimate e = c.estimate(s);
        o << "  " << QStringLiteral("%1").arg(StoryboardController::stageName(s), -13) << e.items << " render(s), "
          << e.text() << Qt::endl;
    }
    return 0;
}

// A key's kind: a reference key, a bookend shot's end keyframe (SCENE/SHOT#end), else a shot of the story.
std::optional<ItemKind> kindOfKey(const StoryboardController& c, const QString& key)
{
    if (storyboard::StoryboardKeys::isReferenceKey(key))
        return ItemKind::Reference;
    if (const QString shot = storyboard::StoryboardKeys::shotOfEndKeyframe(key); !shot.isEmpty()) {
        for (const storyboard::ItemStatus& st : c.staleness().items)
            if (st.kind == ItemKind::EndKeyframe && st.key == shot)
                return ItemKind::EndKeyframe;
        return std::nullopt;
    }
    for (const storyboard::ItemStatus& st : c.staleness().items)
        if (st.kind == ItemKind::Keyframe && st.key == key)
            return ItemKind::Keyframe;
    return std::nullopt;
}

// Runs one stage to its end on the event loop, printing its messages and the render runs' progress.
int runStage(StoryboardController& c, StoryboardStage stage, const QStringList& keys, bool quiet, SignalWatcher& signals)
{
    QTextStream& o = cli::out();
    int exitCode = 0;
    QEventLoop loop;
    QObject ctx;
    QObject::connect(&c, &StoryboardController::message, &ctx, [&o](const QString& m) { o << m << Qt::endl; });
    QObject::connect(&c, &StoryboardController::runStarted, &ctx,
                     [quiet](pipeline::RunController* run) { new cli::ProgressPrinter(run, quiet); });
    QObject::connect(&c, &StoryboardController::stageFinished, &ctx,
                     [&](StoryboardStage, int code, const QString& text) {
                         exitCode = code;
                         (code == 2 || code == 3 ? cli::err() : o) << (code == 2 ? "error: " : "") << text << Qt::endl;
                         loop.quit();
                     });
    QObject::connect(&signals, &SignalWatcher::interrupted, &ctx, [&c](int count) {
        if (count > 1)
            ::exit(130);
        cli::err() << "\nInterrupt received: cancelling the stage ..." << Qt::endl;
        c.cancel();
    });
    QMetaObject::invokeMethod(&ctx, [&] { c.start(stage, keys); }, Qt::QueuedConnection);
    loop.exec();
    return exitCode;
}

} // namespace

int storyboardCommand(const QStringList& arguments)
{
    QCommandLineParser p;
    p.setApplicationDescription(QString::fromUtf8(kDescription));
    p.addHelpOption();
    p.addPositionalArgument(QStringLiteral("storyboard"), QString());
    p.addPositionalArgument(QStringLiteral("action"), kActions.join(QStringLiteral(" | ")) + QStringLiteral(" (default all)"));
    p.addPositionalArgument(QStringLiteral("DIR"), QStringLiteral("The storyboard directory (story.json + storyboard.json)."));
    cli::addStoryOptions(p);
    p.addOption({QStringLiteral("story"), QStringLiteral("create: the story.json the storyboard starts from."), QStringLiteral("FILE")});
    p.addOption({{QStringLiteral("o"), QStringLiteral("output")}, QStringLiteral("create: the new storyboard directory."), QStringLiteral("DIR")});
    p.addOption({QStringLiteral("candidates"), QStringLiteral("Candidates per sheet and keyframe, different seeds (default 3)."), QStringLiteral("N")});
    p.addOption({QStringLiteral("auto-approve"),
                 QStringLiteral("Approve without stopping: sheets take candidate 1, keyframes the judge's pick (candidate 1 "
                                "when there is no judge).")});
    p.addOption({QStringLiteral("allow-text-only"),
                 QStringLiteral("Render keyframes of shots whose characters have no approved sheet from text alone (marked "
                                "textOnly).")});
    p.addOption({QStringLiteral("sheet-profile"), QStringLiteral("Reference-sheet workflow profile (default sdxl-reference-sheet; "
                                                                 "--sandbox: sandbox-reference-sheet)."),
                 QStringLiteral("NAME|PATH")});
    p.addOption({QStringLiteral("keyframe-profile"), QStringLiteral("Keyframe workflow profile (default sdxl-ipadapter-keyframe; "
                                                                    "--sandbox: sandbox-keyframe)."),
                 QStringLiteral("NAME|PATH")});
    p.addOption({QStringLiteral("text-keyframe-profile"),
                 QStringLiteral("Keyframe profile for shots with no character reference image (no visible character, or "
                                "text-only): it maps no reference slot (default sdxl-keyframe-text; --sandbox: "
                                "sandbox-keyframe-text)."),
                 QStringLiteral("NAME|PATH")});
    p.addOption({QStringLiteral("video-profile"), QStringLiteral("Image-to-video profile the staleness of clips is computed "
                                                                 "with (default wan22-flf2v; --sandbox: sandbox-i2v)."),
                 QStringLiteral("NAME|PATH")});
    p.addOption({QStringLiteral("judge-model"), QStringLiteral("Vision model that judges keyframes (default: a vision model the "
                                                               "LLM server lists; none → you choose, metrics UNMEASURED)."),
                 QStringLiteral("ID")});
    p.addOption({QStringLiteral("no-judge"), QStringLiteral("Do not judge keyframes: you choose (metrics UNMEASURED).")});
    p.addOption({QStringLiteral("chain-cap"), QStringLiteral("Consecutive continuesFrom links before a fresh keyframe (default 3)."),
                 QStringLiteral("N")});
    p.addOption({QStringLiteral("candidate"), QStringLiteral("approve: choose this candidate (1-based) first, overriding the judge."),
                 QStringLiteral("K")});
    p.addOption({QStringLiteral("version"), QStringLiteral("approve: the version the candidate belongs to (default: the selected one)."),
                 QStringLiteral("N")});
    p.addOption({QStringLiteral("comfy-url"), QStringLiteral("ComfyUI server URL (LOCAL_COMFY_URL; default http://127.0.0.1:8188)."),
                 QStringLiteral("URL")});
    p.addOption({QStringLiteral("comfy-output-dir"), QStringLiteral("ComfyUI's output directory when it is on this machine "
                                                                    "(LOCAL_COMFY_OUTPUT_DIR)."),
                 QStringLiteral("DIR")});
    p.addOption({QStringLiteral("comfy-token"), QStringLiteral("Bearer token for a reverse proxy in front of ComfyUI (LOCAL_COMFY_TOKEN)."),
                 QStringLiteral("TOKEN")});
    p.addOption({QStringLiteral("fast"), QStringLiteral("Use the FastIteration queue policy preset.")});
    p.addOption({QStringLiteral("sandbox"), QStringLiteral("Use the built-in ComfyUI and LLM stand-ins (with a vision model): no GPU, "
                                                           "no servers.")});
    p.addOption({QStringLiteral("sandbox-no-vision"),
                 QStringLiteral("With --sandbox: the LLM stand-in lists no vision model (the operator-chooses path).")});
    p.addOption({QStringLiteral("history-db"), QStringLiteral("History database the render runs are recorded in and estimates read "
                                                              "from (GEMDIRECT_DB; default: the app data directory)."),
                 QStringLiteral("PATH")});
    p.addOption({QStringLiteral("no-history"), QStringLiteral("Do not record the render runs in the history database.")});
    p.addOption({QStringLiteral("quiet"), QStringLiteral("Print results only: no per-state progress.")});
    p.addOption({QStringLiteral("verbose"), QStringLiteral("Debug logging on stderr.")});

    if (!p.parse(arguments))
        return usage(p.errorText());
    if (p.isSet(QStringLiteral("help"))) {
        cli::out() << p.helpText() << Qt::endl;
        return 0;
    }
    gd::log::init(QString(), p.isSet(QStringLiteral("verbose")));
    gd::log::applyEnvLevel();

    QStringList pos = p.positionalArguments();
    pos.removeFirst(); // "storyboard"
    QString action = pos.value(0);
    if (kActions.contains(action))
        pos.removeFirst();
    else
        action = QStringLiteral("all");
    const bool quiet = p.isSet(QStringLiteral("quiet"));
    const bool useSandbox = p.isSet(QStringLiteral("sandbox"));
    const QProcessEnvironment env = QProcessEnvironment::systemEnvironment();

    QStringList errors;
    auto intOption = [&](const char* name, int fallback, int min) {
        if (!p.isSet(QLatin1String(name)))
            return fallback;
        bool ok = false;
        const int v = p.value(QLatin1String(name)).toInt(&ok);
        if (!ok || v < min)
            errors << QStringLiteral("--%1: '%2' must be a whole number ≥ %3").arg(QLatin1String(name), p.value(QLatin1String(name))).arg(min);
        return v;
    };
    storyboard::StoryboardControllerOptions opt;
    opt.candidates = intOption("candidates", 3, 1);
    opt.chainCap = intOption("chain-cap", 3, 0);
    const int candidate = intOption("candidate", 0, 1);
    const int version = intOption("version", 0, 1);
    opt.autoApprove = p.isSet(QStringLiteral("auto-approve"));
    opt.allowTextOnly = p.isSet(QStringLiteral("allow-text-only"));
    opt.judgeModel = p.value(QStringLiteral("judge-model"));
    opt.sheetProfile = p.isSet(QStringLiteral("sheet-profile")) ? p.value(QStringLiteral("sheet-profile"))
                       : useSandbox                             ? QStringLiteral("sandbox-reference-sheet")
                                                                : QStringLiteral("sdxl-reference-sheet");
    opt.keyframeProfile = p.isSet(QStringLiteral("keyframe-profile")) ? p.value(QStringLiteral("keyframe-profile"))
                          : useSandbox                                ? QStringLiteral("sandbox-keyframe")
                                                                      : QStringLiteral("sdxl-ipadapter-keyframe");
    opt.textKeyframeProfile = p.isSet(QStringLiteral("text-keyframe-profile")) ? p.value(QStringLiteral("text-keyframe-profile"))
                              : useSandbox ? QStringLiteral("sandbox-keyframe-text")
                                           : QStringLiteral("sdxl-keyframe-text");
    opt.videoProfile = p.isSet(QStringLiteral("video-profile")) ? p.value(QStringLiteral("video-profile"))
                       : useSandbox                             ? QStringLiteral("sandbox-i2v")
                                                                : QStringLiteral("wan22-flf2v");
    pipeline::RunOptions& ro = opt.render;
    ro.policy = p.isSet(QStringLiteral("fast")) ? pipeline::QueuePolicy::fastIteration() : pipeline::QueuePolicy::standard();
    ro.policy.applyEnvironment(env, &errors);
    ro.profileSearchDirs = {cli::userProfileDir()};
    ro.comfyOutputDir = p.isSet(QStringLiteral("comfy-output-dir")) ? p.value(QStringLiteral("comfy-output-dir"))
                                                                    : env.value(QStringLiteral("LOCAL_COMFY_OUTPUT_DIR"));
    ro.bearerToken = p.isSet(QStringLiteral("comfy-token")) ? p.value(QStringLiteral("comfy-token"))
                                                            : env.value(QStringLiteral("LOCAL_COMFY_TOKEN"));
    const QString urlText = p.isSet(QStringLiteral("comfy-url"))
                                ? p.value(QStringLiteral("comfy-url"))
                                : env.value(QStringLiteral("LOCAL_COMFY_URL"), QStringLiteral("http://127.0.0.1:8188"));
    ro.comfyUrl = comfy::ComfyClient::normaliseUrl(urlText);
    if (!useSandbox && !ro.comfyUrl.isValid())
        errors << QStringLiteral("--comfy-url: '%1' is not a usable URL").arg(urlText);
    if (!p.isSet(QStringLiteral("no-history")))
        ro.historyDatabase = historyDatabasePath(p.value(QStringLiteral("history-db")));
    const llm::StoryServiceOptions storyOptions = cli::storyServiceOptionsFrom(p);
    if (!p.isSet(QStringLiteral("no-judge")) && !useSandbox)
        opt.llmUrl = QUrl(llm::StoryService::resolveProviderUrl(p.value(QStringLiteral("llm-url")), env));
    opt.llmApiKey = storyOptions.apiKey;

    const QString dir = action == QLatin1String("create") ? p.value(QStringLiteral("output")) : pos.value(0);
    if (dir.isEmpty())
        errors << (action == QLatin1String("create") ? QStringLiteral("create needs -o DIR")
                                                     : QStringLiteral("%1 needs the storyboard directory DIR").arg(action));
    const int wantPositional = action == QLatin1String("approve") || action == QLatin1String("reroll") ? 2
                               : action == QLatin1String("upload")                                     ? 3
                               : action == QLatin1String("create")                                     ? 0
                                                                                                       : 1;
    if (pos.size() != wantPositional)
        errors << QStringLiteral("%1 takes %2 argument(s), got %3: %4")
                      .arg(action)
                      .arg(wantPositional)
                      .arg(pos.size())
                      .arg(pos.join(QLatin1Char(' ')));
    if (!errors.isEmpty()) {
        for (const QString& e : errors)
            cli::err() << "error: " << e << Qt::endl;
        cli::err() << "Nothing was rendered." << Qt::endl;
        return 2;
    }

    StoryboardController controller(opt, nullptr);
    if (action == QLatin1String("create")) {
        const bool fromIdea = p.isSet(QStringLiteral("idea"));
        if (fromIdea == p.isSet(QStringLiteral("story")))
            return usage(QStringLiteral("create needs exactly one of --story FILE and --idea TEXT"));
        story::Story s;
        if (fromIdea) {
            QStringList reqErrors;
            const llm::StoryRequest request = cli::storyRequestFrom(p, &reqErrors);
            if (!reqErrors.isEmpty())
                return usage(reqErrors.join(QStringLiteral("; ")));
            llm::StoryServiceOptions so = storyOptions;
            std::unique_ptr<sandbox::SandboxLlmHost> llmHost;
            if (useSandbox) {
                llmHost = std::make_unique<sandbox::SandboxLlmHost>();
                QString e;
                if (!llmHost->start(sandbox::SandboxLlmConfig{}, 0, &e)) {
                    cli::err() << "error: cannot start the sandbox LLM: " << e << Qt::endl;
                    return 3;
                }
                so.llmUrl = llmHost->url().toString();
            }
            const cli::StoryOutcome r = cli::generateStory(request, so, quiet);
            if (llmHost)
                llmHost->stop();
            if (r.outcome != llm::StoryService::Outcome::Ok) {
                cli::err() << "error: " << r.error << Qt::endl;
                return int(r.outcome);
            }
            s = r.story;
        } else {
            const QString path = cli::resolveInputPath(p.value(QStringLiteral("story")));
            QStringList problems;
            auto loaded = story::StoryLoader::load(path, &problems);
            if (!loaded) {
                for (const QString& pr : problems)
                    cli::err() << "error: story " << p.value(QStringLiteral("story")) << ": " << pr << Qt::endl;
                return 2;
            }
            s = *loaded;
        }
        const Error e = controller.create(dir, s);
        if (!e.isNull()) {
            cli::err() << "error: " << e.message << Qt::endl;
            return 2;
        }
        const storyboard::StalenessReport report = controller.staleness();
        cli::out() << "Storyboard created: " << QDir(dir).absolutePath() << " ("
                   << report.count(ItemKind::Reference, storyboard::Freshness::Missing) +
                          report.count(ItemKind::Reference, storyboard::Freshness::Blocked)
                   << " reference(s), " << s.scenes.size() << " scene(s))" << Qt::endl;
        return 0;
    }

    const Error opened = controller.open(dir);
    if (!opened.isNull()) {
        cli::err() << "error: " << opened.message << Qt::endl;
        return 2;
    }
    {
        // Without an explicit profile option, keep the profiles the storyboard was rendered with:
        // another default would call every rendered item stale ("profile changed").
        storyboard::StoryboardControllerOptions o = controller.options();
        bool changed = false;
        auto adopt = [&](const char* option, QString& field, ItemKind kind, bool textKeyframes) {
            if (p.isSet(QLatin1String(option)))
                return;
            const QString used = storyboard::RenderStoryBuilder::profileInState(controller.state(), kind, textKeyframes);
            if (!used.isEmpty() && used != field) {
                field = used;
                changed = true;
            }
        };
        adopt("sheet-profile", o.sheetProfile, ItemKind::Reference, false);
        adopt("keyframe-profile", o.keyframeProfile, ItemKind::Keyframe, false);
        adopt("text-keyframe-profile", o.textKeyframeProfile, ItemKind::Keyframe, true);
        adopt("video-profile", o.videoProfile, ItemKind::Clip, false);
        if (changed)
            controller.setOptions(o);
    }
    if (action == QLatin1String("status"))
        return printStatus(controller);
    if (action == QLatin1String("upload")) {
        QString key = pos.at(1);
        std::optional<ItemKind> kind;
        if (storyboard::StoryboardKeys::isEndKeyframeKey(key)) {
            kind = ItemKind::EndKeyframe;
            key = storyboard::StoryboardKeys::shotOfEndKeyframe(key);
        } else {
            kind = kindOfKey(controller, key);
        }
        if (!kind) {
            cli::err() << "error: " << key << " is neither a reference key nor a shot of the story" << Qt::endl;
            return 2;
        }
        const Error e = controller.upload(*kind, key, pos.at(2));
        if (!e.isNull()) {
            cli::err() << "error: " << e.message << Qt::endl;
            return 2;
        }
        cli::out() << "Uploaded " << pos.at(2) << " as the approved "
                   << (*kind == ItemKind::Reference  ? "sheet"
                       : *kind == ItemKind::Keyframe ? "keyframe"
                                                     : "end keyframe")
                   << " of " << key << Qt::endl;
        return 0;
    }
    if (action == QLatin1String("approve")) {
        const QString named = pos.at(1);
        const auto kind = kindOfKey(controller, named);
        if (!kind) {
            cli::err() << "error: " << named
                       << " is neither a reference key, a shot of the story nor the end keyframe of a shot with a "
                          "lastFrame"
                       << Qt::endl;
            return 2;
        }
        // The state keys an end keyframe by its shot; messages keep the name the operator typed.
        const QString key = *kind == ItemKind::EndKeyframe ? storyboard::StoryboardKeys::shotOfEndKeyframe(named) : named;
        if (candidate > 0) {
            const storyboard::ImageTrack* t = controller.state().imageTrack(*kind, key);
            const int v = version > 0 ? version : (t && t->selected ? *t->selected : 0);
            if (v == 0) {
                cli::err() << "error: " << key << " has no rendered version to choose from" << Qt::endl;
                return 2;
            }
            const Error e = controller.choose(*kind, key, v, candidate);
            if (!e.isNull()) {
                cli::err() << "error: " << e.message << Qt::endl;
                return 2;
            }
            cli::out() << named << ": candidate " << candidate << " of v" << v << " chosen by operator" << Qt::endl;
        } else if (version > 0) {
            return usage(QStringLiteral("--version needs --candidate"));
        }
        const Error e = controller.approve(*kind, key);
        if (!e.isNull()) {
            cli::err() << "error: " << e.message << Qt::endl;
            return 2;
        }
        cli::out() << named << ": approved" << Qt::endl;
        return 0;
    }

    // Rendering actions: the stand-ins (with --sandbox), then the stage(s).
    std::unique_ptr<sandbox::SandboxHost> host;
    std::unique_ptr<sandbox::SandboxLlmHost> judgeHost;
    std::unique_ptr<QTemporaryDir> sandboxDir;
    if (useSandbox) {
        const QString runs = QDir(controller.directory()).filePath(QStringLiteral("runs"));
        QDir().mkpath(runs);
        // Inside the runs folder so frames can be hard-linked (same filesystem).
        sandboxDir = std::make_unique<QTemporaryDir>(QDir(runs).filePath(QStringLiteral(".sandbox-XXXXXX")));
        sandbox::SandboxConfig cfg;
        cfg.outputDir = QDir(sandboxDir->path()).filePath(QStringLiteral("output"));
        host = std::make_unique<sandbox::SandboxHost>();
        QString e;
        if (!host->start(cfg, 0, &e)) {
            cli::err() << "error: cannot start the sandbox ComfyUI: " << e << Qt::endl;
            return 3;
        }
        opt.render.comfyUrl = host->url();
        opt.render.comfyOutputDir = cfg.outputDir;
        if (!p.isSet(QStringLiteral("no-judge"))) {
            sandbox::SandboxLlmConfig lc;
            lc.visionModel = !p.isSet(QStringLiteral("sandbox-no-vision"));
            judgeHost = std::make_unique<sandbox::SandboxLlmHost>();
            if (!judgeHost->start(lc, 0, &e)) {
                cli::err() << "error: cannot start the sandbox LLM: " << e << Qt::endl;
                return 3;
            }
            opt.llmUrl = judgeHost->url();
        }
        controller.setOptions(opt);
        cli::out() << "Sandbox ComfyUI running at " << host->url().toString() << Qt::endl;
    }
    SignalWatcher signals;
    int rc = 0;
    if (action == QLatin1String("references"))
        rc = runStage(controller, StoryboardStage::References, {}, quiet, signals);
    else if (action == QLatin1String("keyframes"))
        rc = runStage(controller, StoryboardStage::Keyframes, {}, quiet, signals);
    else if (action == QLatin1String("update-stale"))
        rc = runStage(controller, StoryboardStage::UpdateStale, {}, quiet, signals);
    else if (action == QLatin1String("reroll")) {
        const QString key = pos.at(1);
        const auto kind = kindOfKey(controller, key);
        if (!kind) {
            cli::err() << "error: " << key
                       << " is neither a reference key, a shot of the story nor the end keyframe of a shot with a "
                          "lastFrame"
                       << Qt::endl;
            rc = 2;
        } else {
            // The controller takes SCENE/SHOT#end as the end keyframe of that shot.
            rc = runStage(controller, *kind == ItemKind::Reference ? StoryboardStage::References : StoryboardStage::Keyframes,
                          {key}, quiet, signals);
        }
    } else { // all: references, then keyframes once every sheet is approved (or auto-approved)
        rc = runStage(controller, StoryboardStage::References, {}, quiet, signals);
        const QStringList waiting = controller.unapproved(ItemKind::Reference);
        if (rc == 0 && !waiting.isEmpty())
            cli::out() << "Stopped for approval of the sheets: `gemdirect storyboard approve " << controller.directory()
                       << " KEY [--candidate K]`, then `gemdirect storyboard keyframes " << controller.directory() << "`"
                       << Qt::endl;
        else if (rc == 0 || rc == 1) {
            const int keyframes = runStage(controller, StoryboardStage::Keyframes, {}, quiet, signals);
            rc = std::max(rc, keyframes);
        }
    }
    if (host)
        host->stop();
    if (judgeHost)
        judgeHost->stop();
    cli::out() << "Storyboard directory: " << controller.directory() << Qt::endl;
    return rc;
}
