#pragma once

#include "common/Error.h"
#include "llm/LlmTypes.h"
#include "quality/JudgeResults.h"

#include <QJsonArray>
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <QVector>
#include <functional>
#include <optional>

namespace gd::llm {
class LlmClient;
class ChatJob;
class EmbeddingsClient;
} // namespace gd::llm

namespace gd::quality {

class JudgeChat;

// Which model-based metrics to measure and with what (spec/quality-kpis.md). Empty model ids mean "the
// first suitable model the server lists".
struct JudgeOptions
{
    QString judgeModel;     // chat model of the coherence judge (empty: the client's configured/picked one)
    QString visionModel;    // prompt-alignment judge and captioner
    QString embeddingModel; // caption/prompt embeddings
    int callTimeoutMs = 120000; // bound on each chat or embeddings call, on top of the client's own timeouts
    int maxImageSide = 512;     // frames larger than this are downscaled before they are sent
    bool coherence = true;
    bool promptAlignment = true;
    bool semanticAlignment = true;
};

// Relative semantic-alignment figures of one story: sim[i][j] = cosine(caption of scene i, prompt of j).
struct SemanticStats
{
    QVector<double> matched;      // sim[i][i]
    QVector<double> margins;      // sim[i][i] - mean_{j != i} sim[i][j]; empty with fewer than two scenes
    double mean = 0;              // mean of matched
    std::optional<double> margin; // mean of margins
    std::optional<double>
        retrievalTop1; // share of scenes whose caption is strictly closest to its own prompt
};

// Runs the model-based quality metrics over one run directory against the local LLM server: the coherence
// judge (story.json against a fixed rubric), the prompt-alignment judge (middle frame of each scene + its
// prompt, three aspects 0-4) and caption-embedding alignment (vision caption of the middle frame vs every
// scene prompt). Judges are median-of-3 calls at temperature 0 with structured output; every call is
// bounded; a metric that cannot be measured honestly (no vision model, no embedding model, server down,
// unreadable answers) is left out (null) with its reason in JudgeResults::unmeasured. Calls run one at a
// time on the thread this object lives on; finished() is emitted exactly once per run().
class ModelJudges : public QObject
{
    Q_OBJECT
public:
    static constexpr int kRepeats = 3; // median of 3 (spec); PromptAlignmentRubric::kRepeats

    explicit ModelJudges(QObject* parent = nullptr);
    ~ModelJudges() override;

    // Ignored (with a warning) while a run is in progress.
    void run(const QString& runDir, gd::llm::LlmClient* client, const JudgeOptions& options);
    bool isRunning() const { return m_running; }
    // Stops the run now: the chat or embeddings request in flight is aborted, no further call is
    // made, every metric not finished yet is left out (null) with `reason` in JudgeResults::unmeasured,
    // and finished() comes at once with what was measured before. A metric family is finished or
    // not: prompt alignment judged for some scenes only is not averaged. No-op when not running.
    void cancel(const QString& reason);

    // Math, public for tests. cosine: nullopt for empty, different-length or zero vectors. median: of a
    // non-empty list (mean of the middle two for even sizes).
    static std::optional<double> cosine(const QVector<double>& a, const QVector<double>& b);
    static double median(QVector<double> values);
    static SemanticStats semanticStats(const QVector<QVector<double>>& similarity);
    // The frame as a data URL (§5): PNG/JPEG no larger than maxSide sent as they are, anything else decoded,
    // downscaled to fit maxSide and sent as PNG. Empty with `why` set when the file is unreadable.
    static QString frameDataUrl(const QString& path, int maxSide, Error* why);
    // The middle frame (sorted by name, index (n-1)/2) of the images in `dir`; empty when there are none.
    static QString middleFrameIn(const QString& dir);

Q_SIGNALS:
    void finished(const gd::quality::JudgeResults& results);

private:
    struct Scene
    {
        QString id;
        QString prompt;
        QString frame;    // absolute path of the frame the judges look at; empty when none
        QString imageUrl; // data URL of that frame
        QString caption;
        QVector<QJsonObject> alignmentAnswers;
    };

    bool loadRun(QString* why);
    void onDetected(const gd::llm::ServerInfo& info);
    void startCoherence();
    void coherenceCall();
    void startAlignment();
    void alignmentCall();
    void finishAlignment();
    void startSemantic();
    void captionCall();
    void embedAll();
    void complete();
    void unmeasured(const QString& metric, const QString& reason);
    // Every caption/embedding metric null with one reason, then complete().
    void semanticUnmeasured(const QString& reason);
    // One bounded chat (JudgeChat); `done` gets the result unless a newer run started meanwhile.
    void chat(const gd::llm::ChatRequest& request, std::function<void(const gd::llm::ChatResult&)> done);

    QPointer<gd::llm::LlmClient> m_client;
    gd::llm::EmbeddingsClient* m_embeddings = nullptr;
    JudgeOptions m_options;
    QString m_runDir;
    QString m_storyText;
    QVector<Scene> m_scenes;
    gd::llm::ServerInfo m_info;
    JudgeResults m_results;
    bool m_running = false;

    QVector<double> m_coherenceScores;
    QJsonArray m_coherenceReasons;
    QString m_coherenceModel;
    QString m_visionModel;
    QString m_alignmentModel;
    QString m_captionModel;
    int m_sceneIndex = 0;
    int m_repeat = 0;
    JudgeChat* m_chat;
    quint64 m_generation = 0; // guards callbacks of an earlier run
};

} // namespace gd::quality

Q_DECLARE_METATYPE(gd::quality::JudgeResults)
