#pragma once

#include "common/Error.h"
#include "llm/LlmTypes.h"

#include <QJsonObject>
#include <QObject>
#include <QPair>
#include <QPointer>
#include <QQueue>
#include <QStringList>
#include <QVector>
#include <functional>
#include <optional>

namespace gd::llm {
class LlmClient;
}

namespace gd::quality {

class JudgeChat;

// One character the shot should show, with the approved reference sheet the judge compares against.
struct KeyframeCharacter
{
    QString name;
    QString sheetPath; // empty: no approved sheet (a text-only shot): counted, not identity-judged
};

// What the keyframe rubric judges: one candidate image against its shot.
struct KeyframeJudgeInput
{
    QString candidatePath;
    QString description; // the shot description / keyframe prompt
    QVector<KeyframeCharacter> characters;
};

// The "keyframe_rubric" answer for one candidate (storyboard.json `judge`), or why there is none.
struct KeyframeVerdict
{
    // Null when judged. Kinds: "no_model" (no vision model: the metrics are UNMEASURED), "image" (a file
    // could not be read), "judge" (the answer was rejected twice), or the transport's kind
    // (unreachable, http, timeout, ...).
    Error error;
    double score = 0;                      // 0..10
    int descriptionMatch = 0;              // 0..4
    int characterCount = 0;                // people seen
    QVector<QPair<QString, int>> identity; // per character with a sheet, in the input's order: 0..4
    bool bordersOrText = false;
    QString reasons;
    QString model;
    int retries = 0; // corrective retries used (0 or 1)

    bool ok() const { return error.isNull(); }
    // Mean of the identity scores; 0 when no character was identity-judged.
    double meanIdentity() const;
    // storyboard.json's judge object: {score, descriptionMatch, characterCount, identity: {name: n},
    // bordersOrText, reasons, model}.
    QJsonObject toJson() const;
    static std::optional<KeyframeVerdict> fromJson(const QJsonObject& json);
};

// The "keyframe_sameness" answer for two keyframes.
struct SamenessVerdict
{
    Error error; // as KeyframeVerdict::error
    bool sameIdentity = false;
    bool sameLayout = false;
    QString reasons;
    QString model;

    bool ok() const { return error.isNull(); }
    // The sameness guard's flag: the judge calls the two near-identical in both identity and layout.
    bool nearIdentical() const { return ok() && sameIdentity && sameLayout; }
};

// The keyframe prompt-alignment judge (PromptAlignmentRubric, median of 3) on one keyframe.
struct AlignmentVerdict
{
    Error error;
    QJsonObject judge; // {Scene, Action, Camera, Mean, Reasons}
    QString model;

    bool ok() const { return error.isNull(); }
};

// best-of-N: which candidate and why.
struct BestOfChoice
{
    int index = -1; // into the verdict list; -1 when no candidate could be judged
    QString why;
};

// Which vision model the keyframe judges use, or why there is none (the caller can let the operator pick
// one of visionModels, or another listed model, with KeyframeJudge::setVisionModel).
struct VisionModelChoice
{
    std::optional<QString> model;
    Error error;              // kind "no_model" or the detection error when model is empty
    QStringList visionModels; // every listed model with vision capability
    QStringList listed;       // every listed model
};

struct KeyframeJudgeOptions
{
    QString visionModel;        // configured judge model; empty: a listed vision-capable one
    int callTimeoutMs = 120000; // bound on each call, on top of the client's own timeouts
    int maxImageSide = 512;     // images larger than this are downscaled before they are sent
};

// Vision judge of storyboard keyframes on the LLM server (issue 8): the "keyframe_rubric" for a candidate
// against its shot description and the visible characters' approved sheets (candidate first, then one sheet
// per character in the order the text lists them), the "keyframe_sameness" check of two keyframes, and
// the prompt-alignment judge on a keyframe. Structured answers at temperature 0 are parsed and
// range-checked; a malformed one gets one corrective retry, then an error naming the problem. The model is
// picked like the quality judges pick theirs (configured, else a loaded vision-capable one); none means
// error kind "no_model" — never a silent fallback to a text model. Calls run one at a time, in the order
// they were asked for, on the thread this object lives on.
class KeyframeJudge : public QObject
{
    Q_OBJECT
public:
    static constexpr int kMaxCharacterCount = 100; // character_count schema bound

    KeyframeJudge(gd::llm::LlmClient* client, const KeyframeJudgeOptions& options, QObject* parent = nullptr);
    ~KeyframeJudge() override;

    // Fresh detection and model pick; later calls use the result (until the next selectModel or
    // setVisionModel).
    void selectModel(QObject* ctx, std::function<void(const VisionModelChoice&)> done);
    // The operator's pick: used as it is for every later call.
    void setVisionModel(const QString& id);
    QString visionModel() const { return m_model; }

    // `done` runs once (unless ctx is gone) with the verdict of one candidate.
    void judge(const KeyframeJudgeInput& input, QObject* ctx,
               std::function<void(const KeyframeVerdict&)> done);
    void judgeSameness(const QString& keyframeA, const QString& keyframeB, QObject* ctx,
                       std::function<void(const SamenessVerdict&)> done);
    void judgeAlignment(const QString& keyframe, const QString& prompt, QObject* ctx,
                        std::function<void(const AlignmentVerdict&)> done);
    // Calls still waiting or in flight.
    int pending() const { return int(m_tasks.size()) + (m_busy ? 1 : 0); }

    // Highest score; ties: fewer border/text flags, then higher mean identity, then lowest index.
    // Verdicts with an error are not candidates. `why` names the deciding rule.
    static BestOfChoice bestOf(const QVector<KeyframeVerdict>& verdicts);

    // Request shapes and answer parsing, public for tests. `imageUrls`: candidate, then the sheets of the
    // characters that have one, in input order.
    static QJsonObject rubricSchema(int judgedCharacters);
    static QJsonObject samenessSchema();
    static QString rubricUserText(const KeyframeJudgeInput& input);
    static gd::llm::ChatRequest rubricRequest(const KeyframeJudgeInput& input, const QStringList& imageUrls,
                                              const QString& model);
    static gd::llm::ChatRequest samenessRequest(const QString& imageUrlA, const QString& imageUrlB,
                                                const QString& model);
    // A schema-checked answer's semantic problems: every character with a sheet named exactly once, no
    // other names. Empty when fine.
    static QStringList rubricProblems(const QJsonObject& answer, const KeyframeJudgeInput& input);
    static KeyframeVerdict verdictFrom(const QJsonObject& answer, const KeyframeJudgeInput& input);
    // The corrective retry: the same request with the problem stated before the user's text.
    static gd::llm::ChatRequest corrected(gd::llm::ChatRequest request, const QString& problem);
    static QStringList visionModelsOf(const gd::llm::ServerInfo& info);

private:
    using Task = std::function<void()>;
    using Checked = std::function<void(const std::optional<QJsonObject>& answer, const QString& model,
                                       const Error& error, int retries)>;

    // Queues one judge call: `body` runs with the chosen model and must call `finish` once; without a
    // model `finish` gets a verdict carrying the no-model error. `done` runs unless ctx is gone.
    template <typename Verdict>
    void schedule(QObject* ctx, std::function<void(const Verdict&)> done,
                  std::function<void(const QString&, std::function<void(const Verdict&)>)> body);
    void enqueue(Task task);
    void next();
    // Runs `task` with the chosen model, or calls `fail` with the no-model error.
    void withModel(std::function<void(const QString& model)> task, std::function<void(const Error&)> fail);
    void detectModel(std::function<void()> then);
    // One structured call with one corrective retry for answers that fail the schema or `extra`.
    void checkedCall(const gd::llm::ChatRequest& request,
                     std::function<QStringList(const QJsonObject&)> extra, const QString& what, Checked done,
                     int attempt = 1);
    void alignmentCall(const gd::llm::ChatRequest& request, QVector<QJsonObject> answers,
                       std::function<void(const AlignmentVerdict&)> done);
    QString imageUrl(const QString& path, Error* why) const;

    QPointer<gd::llm::LlmClient> m_client;
    KeyframeJudgeOptions m_options;
    JudgeChat* m_chat;
    QString m_model;
    Error m_modelError; // set when detection found no vision model
    bool m_modelKnown = false;
    QQueue<Task> m_tasks;
    bool m_busy = false;
};

} // namespace gd::quality
