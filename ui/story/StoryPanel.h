#pragma once

#include "llm/StoryService.h"
#include "story/Story.h"

#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QPointer>
#include <QWidget>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTabWidget;
class QTableView;
class QTimer;

namespace gd::story {
class StoryDocument;
}

namespace gd::ui {

// The story panel: idea, template and scene count in, tokens streaming per stage, then the bible
// and the scene table/detail editor over a core StoryDocument, open/save of story.json and
// "regenerate scene". It only renders StoryService/StoryDocument and forwards the operator's intent.
class StoryPanel : public QWidget
{
    Q_OBJECT
public:
    explicit StoryPanel(QWidget* parent = nullptr);
    ~StoryPanel() override;

    // LLM URL/model/key and template dirs from the settings; also reloads the template picker.
    void setServiceOptions(const gd::llm::StoryServiceOptions& options);

    gd::story::Story story() const;
    QString storyPath() const;
    bool hasUnsavedChanges() const;
    // What the last generation recorded (LLM model and settings, the prompts sent, the health check),
    // for the run's telemetry; empty after a story was opened from a file.
    struct Generation
    {
        QJsonObject llm;
        QJsonArray prompts;
        gd::telemetry::LlmHealthInfo health;
        bool valid = false;
    };
    Generation lastGeneration() const { return m_generation; }
    // A generation or regeneration is running (open/save of the file do not count).
    bool isGenerating() const;
    gd::story::StoryDocument* document() const { return m_doc; }

public Q_SLOTS:
    void generate();
    void cancel();
    void regenerateSelectedScene();
    // The file dialogs of the Open…/Save As… buttons end in these (tests and the app call them directly).
    void openStory(const QString& path);
    void saveStory(); // to storyPath(), or asks where when there is none
    void saveStoryAs(const QString& path);

Q_SIGNALS:
    void storyChanged();

private:
    enum class Tone
    {
        Info,
        Good,
        Warning,
        Error
    };
    enum class Mode
    {
        Idle,
        Generating,
        Regenerating
    };

    QWidget* buildGeneratePane();
    QWidget* buildStoryPane();
    QWidget* buildBiblePage();
    QWidget* buildScenesPage();
    void reloadTemplates();
    void fillTemplateCombo();
    void startService(Mode mode);
    void onStageStarted(const QString& stage);
    void onToken(const QString& stage, const QString& text);
    void flushTokens();
    void onFinished(gd::llm::StoryService::Outcome outcome, const gd::story::Story& story,
                    const QString& error);
    void showMessage(Tone tone, const QString& text);
    void updateActions();
    void updatePathLabel();
    void reloadBible();
    void showSelectedScene();
    void updatePromptInfo();
    QString selectedSceneId() const;
    QPlainTextEdit* streamFor(const QString& stage) const;
    bool confirmDiscard();

    gd::llm::StoryServiceOptions m_options;
    gd::story::StoryDocument* m_doc;
    QPointer<gd::llm::StoryService> m_service;
    Mode m_mode = Mode::Idle;
    QString m_regenSceneId;
    int m_sceneCountRequested = 0;
    int m_promptStagesSeen = 0;
    int m_shotStagesSeen = 0;
    bool m_expectShots = false; // the chosen template has a shots stage
    int stageCount() const;
    bool m_loadingFields = false; // views being filled from the document: not an edit
    quint64 m_templateLoad = 0;   // newest template load; older results are dropped

    // Generate pane
    QPlainTextEdit* m_idea;
    QComboBox* m_genre;
    QComboBox* m_template;
    QSpinBox* m_sceneCount;
    QCheckBox* m_seedCheck;
    QSpinBox* m_seed;
    QPushButton* m_generate;
    QPushButton* m_cancel;
    QProgressBar* m_progress;
    QLabel* m_progressLabel;
    QLabel* m_message;
    QTabWidget* m_stageTabs;
    QPlainTextEdit* m_bibleStream;
    QPlainTextEdit* m_scenesStream;
    QPlainTextEdit* m_shotsStream;
    QPlainTextEdit* m_promptsStream;
    QHash<QPlainTextEdit*, QString> m_pendingTokens;
    QTimer* m_flushTimer;

    // Story pane
    QPushButton* m_open;
    QPushButton* m_save;
    QPushButton* m_saveAs;
    QLabel* m_pathLabel;
    QTabWidget* m_storyTabs;
    QLineEdit* m_title;
    QLineEdit* m_storyGenre;
    QLineEdit* m_logline;
    QPlainTextEdit* m_vision;
    QPlainTextEdit* m_setting;
    QPlainTextEdit* m_outline;
    QPlainTextEdit* m_characters;
    QTableView* m_sceneTable;
    QPushButton* m_regenerate;
    QLabel* m_sceneHeading;
    QPlainTextEdit* m_prompt;
    QPlainTextEdit* m_negative;
    QLabel* m_promptInfo;

    struct Template
    {
        QString key, genre, tone, author, created;
        bool hasShots = false; // the template has a per-scene shot list stage
    };
    QVector<Template> m_templates;
    Generation m_generation;
};

} // namespace gd::ui
