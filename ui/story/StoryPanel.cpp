#include "story/StoryPanel.h"

#include "common/StatusColor.h"
#include "llm/PromptLibrary.h"
#include "llm/StoryGenerator.h"
#include "story/SceneListModel.h"
#include "story/StoryDocument.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QFutureWatcher>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QShortcut>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QTextCursor>
#include <QTimer>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>
#include <algorithm>
#include <limits>

namespace gd::ui {

namespace {

using Column = story::SceneListModel::Column;
using Field = story::StoryDocument::Field;
using Outcome = llm::StoryService::Outcome;

// Tokens are appended to the stage views at this cadence rather than per token: one re-layout per
// batch keeps the GUI thread free while a fast server streams hundreds of tokens a second.
constexpr int kTokenFlushMs = 60;

struct TemplateLoad
{
    QVector<llm::PromptTemplate> templates;
    QStringList problems;
};

QPlainTextEdit* makeText(const QString& objectName, const QString& placeholder, QWidget* parent)
{
    auto* edit = new QPlainTextEdit(parent);
    edit->setObjectName(objectName);
    edit->setPlaceholderText(placeholder);
    edit->setTabChangesFocus(true);
    // Lines wrap at the widget width, so a horizontal scroll bar would only flicker in and out.
    edit->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    return edit;
}

QPlainTextEdit* makeStream(const QString& objectName, QWidget* parent)
{
    auto* view = new QPlainTextEdit(parent);
    view->setObjectName(objectName);
    view->setReadOnly(true);
    view->setLineWrapMode(QPlainTextEdit::WidgetWidth);
    view->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    // The stage views are logs: bounded so an endless answer cannot grow memory without limit.
    view->setMaximumBlockCount(20000);
    return view;
}

void setTextKeepingCursor(QPlainTextEdit* edit, const QString& text)
{
    if (edit->toPlainText() != text)
        edit->setPlainText(text);
}

} // namespace

StoryPanel::StoryPanel(QWidget* parent)
    : QWidget(parent), m_doc(new story::StoryDocument(this)), m_flushTimer(new QTimer(this))
{
    setObjectName(QStringLiteral("storyPanel"));
    m_flushTimer->setInterval(kTokenFlushMs);
    connect(m_flushTimer, &QTimer::timeout, this, &StoryPanel::flushTokens);

    auto* splitter = new QSplitter(Qt::Horizontal, this);
    splitter->setObjectName(QStringLiteral("storySplitter"));
    splitter->addWidget(buildGeneratePane());
    splitter->addWidget(buildStoryPane());
    splitter->setStretchFactor(0, 2);
    splitter->setStretchFactor(1, 3);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(splitter);

    connect(m_doc, &story::StoryDocument::storyReplaced, this, [this] {
        reloadBible();
        m_sceneTable->resizeColumnsToContents();
        if (m_doc->sceneModel()->rowCount() > 0)
            m_sceneTable->selectRow(0);
        showSelectedScene();
        updateActions();
    });
    connect(m_doc, &story::StoryDocument::changed, this, &StoryPanel::storyChanged);
    connect(m_doc, &story::StoryDocument::dirtyChanged, this, &StoryPanel::updatePathLabel);
    connect(m_doc, &story::StoryDocument::pathChanged, this, &StoryPanel::updatePathLabel);
    connect(m_doc, &story::StoryDocument::busyChanged, this, &StoryPanel::updateActions);
    connect(m_doc->sceneModel(), &QAbstractItemModel::dataChanged, this, [this](const QModelIndex& from) {
        // An edit in the table (or a regenerated prompt) of the scene shown in the detail editor.
        if (m_sceneTable->currentIndex().row() == from.row())
            showSelectedScene();
    });
    connect(m_doc, &story::StoryDocument::opened, this,
            [this](bool ok, const QString& path, const QStringList& problems) {
                if (ok) {
                    m_generation = Generation{}; // a story from a file: no generation to report
                    showMessage(Tone::Good, QStringLiteral("Opened %1 (%2 scenes).")
                                                .arg(QDir::toNativeSeparators(path))
                                                .arg(m_doc->sceneModel()->rowCount()));
                    return;
                }
                showMessage(
                    Tone::Error,
                    QStringLiteral("%1 was not opened; the story you had is unchanged. Fix these problems "
                                   "in the file and open it again:\n• %2")
                        .arg(QDir::toNativeSeparators(path), problems.join(QStringLiteral("\n• "))));
            });
    connect(m_doc, &story::StoryDocument::saved, this,
            [this](bool ok, const QString& path, const QStringList& problems) {
                if (ok) {
                    showMessage(Tone::Good, QStringLiteral("Saved %1.").arg(QDir::toNativeSeparators(path)));
                    return;
                }
                showMessage(Tone::Error,
                            QStringLiteral("The story was not saved; fix these problems first:\n• %1")
                                .arg(problems.join(QStringLiteral("\n• "))));
            });

    // Shortcuts work while focus is anywhere inside this panel, so other panels keep theirs.
    auto shortcut = [this](const QKeySequence& keys, auto slot) {
        auto* s = new QShortcut(keys, this);
        s->setContext(Qt::WidgetWithChildrenShortcut);
        connect(s, &QShortcut::activated, this, slot);
    };
    shortcut(QKeySequence(Qt::CTRL | Qt::Key_Return), &StoryPanel::generate);
    shortcut(QKeySequence(Qt::Key_Escape), &StoryPanel::cancel);
    shortcut(QKeySequence::Save, &StoryPanel::saveStory);
    shortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_S), [this] { m_saveAs->click(); });
    shortcut(QKeySequence::Open, [this] { m_open->click(); });
    shortcut(QKeySequence(Qt::CTRL | Qt::Key_R), &StoryPanel::regenerateSelectedScene);

    reloadBible();
    showSelectedScene();
    updatePathLabel();
    updateActions();
    reloadTemplates();
}

StoryPanel::~StoryPanel()
{
    if (m_service) {
        disconnect(m_service, nullptr, this, nullptr);
        m_service->cancel();
    }
}

QWidget* StoryPanel::buildGeneratePane()
{
    auto* pane = new QWidget(this);
    auto* layout = new QVBoxLayout(pane);

    auto* box = new QGroupBox(QStringLiteral("Generate a story"), pane);
    box->setObjectName(QStringLiteral("generateBox"));
    auto* form = new QFormLayout(box);
    m_idea = makeText(QStringLiteral("ideaEdit"),
                      QStringLiteral("What is the story about? A sentence or a paragraph."), box);
    m_idea->setMaximumHeight(fontMetrics().lineSpacing() * 7);
    form->addRow(QStringLiteral("&Idea"), m_idea);

    m_genre = new QComboBox(box);
    m_genre->setObjectName(QStringLiteral("genreCombo"));
    m_genre->setToolTip(
        QStringLiteral("Genre of the story; the template list shows the templates written for it"));
    form->addRow(QStringLiteral("&Genre"), m_genre);
    m_template = new QComboBox(box);
    m_template->setObjectName(QStringLiteral("templateCombo"));
    m_template->setToolTip(
        QStringLiteral("Prompt template and its version (id@version); the version is recorded in the story"));
    form->addRow(QStringLiteral("&Template"), m_template);
    connect(m_genre, &QComboBox::currentIndexChanged, this, &StoryPanel::fillTemplateCombo);

    m_sceneCount = new QSpinBox(box);
    m_sceneCount->setObjectName(QStringLiteral("sceneCountSpin"));
    m_sceneCount->setRange(1, llm::StoryGenerator::kMaxSceneCount);
    m_sceneCount->setValue(5);
    form->addRow(QStringLiteral("&Scenes"), m_sceneCount);

    auto* seedRow = new QHBoxLayout;
    m_seedCheck = new QCheckBox(QStringLiteral("Fixed seed"), box);
    m_seedCheck->setObjectName(QStringLiteral("seedCheck"));
    m_seedCheck->setToolTip(QStringLiteral(
        "With a fixed seed the same idea and template give the same story on servers that honour seeds"));
    m_seed = new QSpinBox(box);
    m_seed->setObjectName(QStringLiteral("seedSpin"));
    m_seed->setRange(0, std::numeric_limits<int>::max());
    m_seed->setEnabled(false);
    connect(m_seedCheck, &QCheckBox::toggled, m_seed, &QWidget::setEnabled);
    seedRow->addWidget(m_seedCheck);
    seedRow->addWidget(m_seed, 1);
    form->addRow(QStringLiteral("Seed"), seedRow);

    auto* buttons = new QHBoxLayout;
    m_generate = new QPushButton(QStringLiteral("&Generate"), box);
    m_generate->setObjectName(QStringLiteral("generateButton"));
    m_generate->setToolTip(
        QStringLiteral("Write the bible, the scene list and one render prompt per scene (Ctrl+Enter)"));
    m_cancel = new QPushButton(QStringLiteral("Cancel"), box);
    m_cancel->setObjectName(QStringLiteral("cancelButton"));
    m_cancel->setToolTip(
        QStringLiteral("Stop the running generation (Esc); the story you have stays as it is"));
    connect(m_generate, &QPushButton::clicked, this, &StoryPanel::generate);
    connect(m_cancel, &QPushButton::clicked, this, &StoryPanel::cancel);
    buttons->addWidget(m_generate);
    buttons->addWidget(m_cancel);
    buttons->addStretch(1);
    form->addRow(buttons);
    layout->addWidget(box);

    m_progress = new QProgressBar(pane);
    m_progress->setObjectName(QStringLiteral("progressBar"));
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_progress->setTextVisible(false);
    m_progressLabel = new QLabel(QStringLiteral("Idle"), pane);
    m_progressLabel->setObjectName(QStringLiteral("progressLabel"));
    m_progressLabel->setToolTip(QStringLiteral(
        "Stage 1 writes the bible, stage 2 the scene list, then (with a template that has one) the shot "
        "list of each scene, and last one render prompt per scene"));
    layout->addWidget(m_progress);
    layout->addWidget(m_progressLabel);

    m_message = new QLabel(pane);
    m_message->setObjectName(QStringLiteral("messageLabel"));
    m_message->setWordWrap(true);
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_message->setVisible(false);
    layout->addWidget(m_message);

    m_stageTabs = new QTabWidget(pane);
    m_stageTabs->setObjectName(QStringLiteral("stageTabs"));
    m_bibleStream = makeStream(QStringLiteral("bibleStream"), m_stageTabs);
    m_scenesStream = makeStream(QStringLiteral("scenesStream"), m_stageTabs);
    m_shotsStream = makeStream(QStringLiteral("shotsStream"), m_stageTabs);
    m_promptsStream = makeStream(QStringLiteral("promptsStream"), m_stageTabs);
    m_stageTabs->addTab(m_bibleStream, QStringLiteral("1 · Bible"));
    m_stageTabs->addTab(m_scenesStream, QStringLiteral("2 · Scene list"));
    m_stageTabs->addTab(m_shotsStream, QStringLiteral("3 · Shots"));
    m_stageTabs->setTabToolTip(2, QStringLiteral("The shot list of each scene (templates 2.0 and later; "
                                                 "empty with a template without a shots stage)"));
    m_stageTabs->addTab(m_promptsStream, QStringLiteral("4 · Prompts"));
    m_stageTabs->setToolTip(QStringLiteral("The model's answers as they stream in, one tab per stage"));
    layout->addWidget(m_stageTabs, 1);
    return pane;
}

QWidget* StoryPanel::buildStoryPane()
{
    auto* pane = new QWidget(this);
    auto* layout = new QVBoxLayout(pane);
    auto* fileRow = new QHBoxLayout;
    m_open = new QPushButton(QStringLiteral("Open…"), pane);
    m_open->setObjectName(QStringLiteral("openButton"));
    m_open->setToolTip(QStringLiteral("Open a story.json (Ctrl+O)"));
    m_save = new QPushButton(QStringLiteral("Save"), pane);
    m_save->setObjectName(QStringLiteral("saveButton"));
    m_save->setToolTip(QStringLiteral("Save the story to its file (Ctrl+S); it is checked first"));
    m_saveAs = new QPushButton(QStringLiteral("Save As…"), pane);
    m_saveAs->setObjectName(QStringLiteral("saveAsButton"));
    m_saveAs->setToolTip(QStringLiteral("Save the story to a new file (Ctrl+Shift+S)"));
    m_pathLabel = new QLabel(pane);
    m_pathLabel->setObjectName(QStringLiteral("pathLabel"));
    m_pathLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    // Wraps rather than setting the panel's minimum width to the file name's length.
    m_pathLabel->setWordWrap(true);
    fileRow->addWidget(m_open);
    fileRow->addWidget(m_save);
    fileRow->addWidget(m_saveAs);
    fileRow->addWidget(m_pathLabel, 1);
    layout->addLayout(fileRow);

    connect(m_open, &QPushButton::clicked, this, [this] {
        const QString start = m_doc->path().isEmpty() ? QString() : QFileInfo(m_doc->path()).absolutePath();
        const QString path = QFileDialog::getOpenFileName(this, QStringLiteral("Open story"), start,
                                                          QStringLiteral("Story (*.json);;All files (*)"));
        if (!path.isEmpty())
            openStory(path);
    });
    connect(m_save, &QPushButton::clicked, this, &StoryPanel::saveStory);
    connect(m_saveAs, &QPushButton::clicked, this, [this] {
        const QString start = m_doc->path().isEmpty() ? QStringLiteral("story.json") : m_doc->path();
        const QString path = QFileDialog::getSaveFileName(this, QStringLiteral("Save story as"), start,
                                                          QStringLiteral("Story (*.json)"));
        if (!path.isEmpty())
            saveStoryAs(path);
    });

    m_storyTabs = new QTabWidget(pane);
    m_storyTabs->setObjectName(QStringLiteral("storyTabs"));
    m_storyTabs->addTab(buildBiblePage(), QStringLiteral("Bible"));
    m_storyTabs->addTab(buildScenesPage(), QStringLiteral("Scenes"));
    layout->addWidget(m_storyTabs, 1);
    return pane;
}

QWidget* StoryPanel::buildBiblePage()
{
    auto* page = new QWidget(this);
    auto* form = new QFormLayout(page);
    auto line = [this, page, form](QLineEdit*& edit, const QString& name, const QString& label, Field field) {
        edit = new QLineEdit(page);
        edit->setObjectName(name);
        form->addRow(label, edit);
        connect(edit, &QLineEdit::textEdited, this,
                [this, field](const QString& text) { m_doc->setField(field, text); });
    };
    auto text = [this, page, form](QPlainTextEdit*& edit, const QString& name, const QString& label,
                                   const QString& hint, Field field) {
        edit = makeText(name, hint, page);
        form->addRow(label, edit);
        QPlainTextEdit* e = edit;
        connect(edit, &QPlainTextEdit::textChanged, this, [this, e, field] {
            if (!m_loadingFields)
                m_doc->setField(field, e->toPlainText());
        });
    };
    line(m_title, QStringLiteral("titleEdit"), QStringLiteral("Title"), Field::Title);
    line(m_storyGenre, QStringLiteral("storyGenreEdit"), QStringLiteral("Genre"), Field::Genre);
    line(m_logline, QStringLiteral("loglineEdit"), QStringLiteral("Logline"), Field::Logline);
    m_logline->setToolTip(QStringLiteral("One sentence; story.json requires it"));
    text(m_vision, QStringLiteral("visionEdit"), QStringLiteral("Director's vision"),
         QStringLiteral("Framing, lighting, pacing, colour"), Field::DirectorsVision);
    text(m_setting, QStringLiteral("settingEdit"), QStringLiteral("Setting"), QString(), Field::Setting);
    text(m_outline, QStringLiteral("outlineEdit"), QStringLiteral("Plot outline"),
         QStringLiteral("Act 1 … Act 2 … Act 3 …"), Field::PlotOutline);
    text(m_characters, QStringLiteral("charactersEdit"), QStringLiteral("Characters"),
         QStringLiteral("One per line: Name | role | visual descriptor"), Field::Characters);
    m_characters->setToolTip(
        QStringLiteral("One character per line: Name | role | visual descriptor. Render prompts repeat the "
                       "descriptor word for word, so describe what a camera sees."));
    return page;
}

QWidget* StoryPanel::buildScenesPage()
{
    auto* page = new QWidget(this);
    auto* layout = new QVBoxLayout(page);
    auto* split = new QSplitter(Qt::Vertical, page);
    split->setObjectName(QStringLiteral("sceneSplitter"));

    m_sceneTable = new QTableView(split);
    m_sceneTable->setObjectName(QStringLiteral("sceneTable"));
    m_sceneTable->setModel(m_doc->sceneModel());
    m_sceneTable->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_sceneTable->setSelectionMode(QAbstractItemView::SingleSelection);
    m_sceneTable->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed);
    m_sceneTable->verticalHeader()->setVisible(false);
    m_sceneTable->horizontalHeader()->setStretchLastSection(true);
    // Long texts live in the detail editor below; the table shows what tells scenes apart.
    for (Column c :
         {Column::Summary, Column::Prompt, Column::NegativePrompt, Column::Palette, Column::Characters})
        m_sceneTable->setColumnHidden(int(c), true);
    connect(m_sceneTable->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this] {
        showSelectedScene();
        updateActions();
    });

    auto* detail = new QWidget(split);
    auto* form = new QFormLayout(detail);
    form->setContentsMargins(0, 0, 0, 0);
    auto* headRow = new QHBoxLayout;
    m_sceneHeading = new QLabel(detail);
    m_sceneHeading->setObjectName(QStringLiteral("sceneHeading"));
    m_sceneHeading->setWordWrap(true);
    m_regenerate = new QPushButton(QStringLiteral("&Regenerate scene"), detail);
    m_regenerate->setObjectName(QStringLiteral("regenerateButton"));
    m_regenerate->setToolTip(
        QStringLiteral("Ask the LLM for a new render prompt for the selected scene only, with the bible and "
                       "scene list as context (Ctrl+R); the other scenes stay as they are"));
    connect(m_regenerate, &QPushButton::clicked, this, &StoryPanel::regenerateSelectedScene);
    headRow->addWidget(m_sceneHeading, 1);
    headRow->addWidget(m_regenerate);
    form->addRow(headRow);
    m_prompt = makeText(QStringLiteral("scenePromptEdit"),
                        QStringLiteral("Render prompt of the selected scene"), detail);
    m_negative =
        makeText(QStringLiteral("sceneNegativeEdit"), QStringLiteral("What the renderer must avoid"), detail);
    m_negative->setMaximumHeight(fontMetrics().lineSpacing() * 5);
    m_promptInfo = new QLabel(detail);
    m_promptInfo->setObjectName(QStringLiteral("promptInfoLabel"));
    m_promptInfo->setToolTip(
        QStringLiteral("Prompt length estimated as characters/4; the story checks expect %1 to %2 tokens")
            .arg(llm::StoryGenerator::kMinPromptTokens)
            .arg(llm::StoryGenerator::kMaxPromptTokens));
    form->addRow(QStringLiteral("Prompt"), m_prompt);
    form->addRow(QString(), m_promptInfo);
    form->addRow(QStringLiteral("Negative"), m_negative);
    auto commit = [this](QPlainTextEdit* edit, Column column) {
        connect(edit, &QPlainTextEdit::textChanged, this, [this, edit, column] {
            if (m_loadingFields)
                return;
            const int row = m_sceneTable->currentIndex().row();
            m_loadingFields = true; // the model's dataChanged must not re-fill the editor being typed in
            m_doc->sceneModel()->setField(row, column, edit->toPlainText());
            m_loadingFields = false;
            updatePromptInfo();
        });
    };
    commit(m_prompt, Column::Prompt);
    commit(m_negative, Column::NegativePrompt);

    split->addWidget(m_sceneTable);
    split->addWidget(detail);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    layout->addWidget(split);
    return page;
}

void StoryPanel::setServiceOptions(const llm::StoryServiceOptions& options)
{
    m_options = options;
    reloadTemplates();
}

void StoryPanel::reloadTemplates()
{
    // Operator template dirs are read from disk: off the GUI thread.
    const quint64 load = ++m_templateLoad;
    auto* watcher = new QFutureWatcher<TemplateLoad>(this);
    connect(watcher, &QFutureWatcher<TemplateLoad>::finished, this, [this, watcher, load] {
        watcher->deleteLater();
        if (load != m_templateLoad)
            return;
        const TemplateLoad r = watcher->result();
        m_templates.clear();
        for (const llm::PromptTemplate& t : r.templates)
            m_templates.append(Template{t.key(), t.genre, t.tone, t.author, t.created.toString(Qt::ISODate),
                                        !t.shotsStage.isEmpty()});
        // Newest version first within an id, so the default pick is the current template.
        std::stable_sort(m_templates.begin(), m_templates.end(), [](const Template& a, const Template& b) {
            const QString ida = a.key.section(QLatin1Char('@'), 0, 0),
                          idb = b.key.section(QLatin1Char('@'), 0, 0);
            if (ida != idb)
                return ida < idb;
            return llm::PromptLibrary::compareVersions(a.key.section(QLatin1Char('@'), 1),
                                                       b.key.section(QLatin1Char('@'), 1)) > 0;
        });
        const QString genre = m_genre->currentText();
        const QString key = m_template->currentData().toString();
        QStringList genres;
        for (const Template& t : m_templates)
            if (!genres.contains(t.genre))
                genres << t.genre;
        {
            const QSignalBlocker block(m_genre);
            m_genre->clear();
            m_genre->addItems(genres);
            m_genre->setCurrentIndex(std::max(0, int(genres.indexOf(genre))));
        }
        fillTemplateCombo();
        const int keep = m_template->findData(key);
        if (keep >= 0)
            m_template->setCurrentIndex(keep);
        if (!r.problems.isEmpty())
            showMessage(Tone::Warning, QStringLiteral("Some prompt templates were skipped:\n• %1")
                                           .arg(r.problems.join(QStringLiteral("\n• "))));
        if (m_templates.isEmpty())
            showMessage(Tone::Error,
                        QStringLiteral(
                            "No prompt templates were found; check the template folders in the settings."));
        updateActions();
    });
    const QStringList dirs = m_options.templateDirs;
    watcher->setFuture(QtConcurrent::run([dirs] {
        TemplateLoad r;
        r.templates = llm::PromptLibrary::load(dirs, &r.problems).templates();
        return r;
    }));
}

void StoryPanel::fillTemplateCombo()
{
    const QString genre = m_genre->currentText();
    m_template->clear();
    for (const Template& t : m_templates) {
        if (t.genre != genre)
            continue;
        m_template->addItem(t.key, t.key);
        m_template->setItemData(
            m_template->count() - 1,
            QStringLiteral("%1\nTone: %2\nBy %3, %4").arg(t.key, t.tone, t.author, t.created),
            Qt::ToolTipRole);
    }
}

gd::story::Story StoryPanel::story() const
{
    return m_doc->story();
}

QString StoryPanel::storyPath() const
{
    return m_doc->path();
}

bool StoryPanel::hasUnsavedChanges() const
{
    return m_doc->isDirty();
}

bool StoryPanel::isGenerating() const
{
    return m_mode != Mode::Idle;
}

bool StoryPanel::confirmDiscard()
{
    if (!m_doc->isDirty())
        return true;
    return QMessageBox::question(
               this, QStringLiteral("Replace the story?"),
               QStringLiteral("The current story has unsaved changes. Generate a new one and discard them?"),
               QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Cancel) == QMessageBox::Discard;
}

void StoryPanel::generate()
{
    if (m_mode != Mode::Idle || !m_generate->isEnabled())
        return;
    if (m_idea->toPlainText().trimmed().isEmpty()) {
        showMessage(Tone::Warning,
                    QStringLiteral("Write the idea first: a sentence about what the story is about."));
        m_idea->setFocus();
        return;
    }
    if (!confirmDiscard())
        return;
    startService(Mode::Generating);
}

void StoryPanel::regenerateSelectedScene()
{
    if (m_mode != Mode::Idle || !m_regenerate->isEnabled())
        return;
    m_regenSceneId = selectedSceneId();
    if (m_regenSceneId.isEmpty())
        return;
    startService(Mode::Regenerating);
}

void StoryPanel::startService(Mode mode)
{
    m_mode = mode;
    m_promptStagesSeen = 0;
    m_shotStagesSeen = 0;
    m_pendingTokens.clear();
    llm::StoryRequest req;
    req.idea = m_idea->toPlainText();
    req.genre = m_genre->currentText();
    req.sceneCount = m_sceneCount->value();
    if (m_seedCheck->isChecked())
        req.seed = m_seed->value();
    req.model = m_options.model;

    m_service = new llm::StoryService(m_options, this);
    connect(m_service, &llm::StoryService::message, this,
            [this](const QString& text) { m_progressLabel->setText(text); });
    connect(m_service, &llm::StoryService::healthChecked, this,
            [this](const telemetry::LlmHealthInfo&, const QString& line) { m_progressLabel->setText(line); });
    connect(m_service, &llm::StoryService::stageStarted, this, &StoryPanel::onStageStarted);
    connect(m_service, &llm::StoryService::token, this, &StoryPanel::onToken);
    connect(m_service, &llm::StoryService::warning, this, [this](const QString& text) {
        flushTokens();
        showMessage(Tone::Warning, text);
    });
    connect(m_service, &llm::StoryService::finished, this,
            [this](Outcome outcome, const story::Story& story, const QJsonObject& llm, const QJsonArray& prompts,
                   const telemetry::LlmHealthInfo& health, const QString& error) {
                if (outcome == Outcome::Ok && m_mode == Mode::Generating)
                    m_generation = Generation{llm, prompts, health, true};
                onFinished(outcome, story, error);
            });

    m_message->setVisible(false);
    m_progress->setRange(0, 0); // busy until the first stage says how far it is
    if (mode == Mode::Generating) {
        req.templateKey = m_template->currentData().toString();
        m_sceneCountRequested = req.sceneCount;
        m_expectShots = false;
        for (const Template& t : m_templates)
            if (t.key == req.templateKey)
                m_expectShots = t.hasShots && req.shots;
        for (QPlainTextEdit* view : {m_bibleStream, m_scenesStream, m_shotsStream, m_promptsStream})
            view->clear();
        m_stageTabs->setCurrentWidget(m_bibleStream);
        m_progressLabel->setText(QStringLiteral("Checking the LLM server…"));
        m_service->start(req);
    } else {
        // The scene is rewritten with the story's own template and a fresh seed, so each click
        // gives a new variant.
        req.seed.reset();
        m_promptsStream->clear();
        m_stageTabs->setCurrentWidget(m_promptsStream);
        m_progressLabel->setText(
            QStringLiteral("Regenerating %1: checking the LLM server…").arg(m_regenSceneId));
        m_service->regenerateScene(m_doc->story(), m_regenSceneId, req);
    }
    updateActions();
}

void StoryPanel::cancel()
{
    if (m_mode == Mode::Idle || !m_service)
        return;
    m_progressLabel->setText(QStringLiteral("Cancelling…"));
    m_service->cancel();
}

QPlainTextEdit* StoryPanel::streamFor(const QString& stage) const
{
    if (stage == QLatin1String("bible"))
        return m_bibleStream;
    if (stage == QLatin1String("scenes"))
        return m_scenesStream;
    if (stage.startsWith(QLatin1String("shots:")))
        return m_shotsStream;
    return m_promptsStream;
}

void StoryPanel::onStageStarted(const QString& stage)
{
    flushTokens();
    QPlainTextEdit* view = streamFor(stage);
    m_stageTabs->setCurrentWidget(view);
    if (m_mode == Mode::Regenerating) {
        m_progressLabel->setText(QStringLiteral("Regenerating the prompt of %1").arg(m_regenSceneId));
    } else if (stage == QLatin1String("bible")) {
        m_progress->setRange(0, 2 + (stageCount() == 4 ? 2 : 1) * m_sceneCountRequested);
        m_progress->setValue(0);
        m_progressLabel->setText(QStringLiteral("Stage 1 of %1: story bible").arg(stageCount()));
    } else if (stage == QLatin1String("scenes")) {
        m_progress->setValue(1);
        m_progressLabel->setText(QStringLiteral("Stage 2 of %1: scene list").arg(stageCount()));
    } else if (stage.startsWith(QLatin1String("shots:"))) {
        // The shots stage exists only for templates that have one: the bar grows when it starts.
        ++m_shotStagesSeen;
        m_progress->setRange(0, 2 + 2 * m_sceneCountRequested);
        m_progress->setValue(1 + m_shotStagesSeen);
        m_progressLabel->setText(QStringLiteral("Stage 3 of 4: shots, scene %1 of %2")
                                     .arg(m_shotStagesSeen)
                                     .arg(m_sceneCountRequested));
    } else {
        ++m_promptStagesSeen;
        const bool withShots = m_shotStagesSeen > 0;
        if (!withShots)
            m_progress->setRange(0, 2 + m_sceneCountRequested); // the template had no shots stage after all
        m_progress->setValue(1 + m_promptStagesSeen + (withShots ? m_sceneCountRequested : 0));
        m_progressLabel->setText(QStringLiteral("Stage %1 of %1: prompts, scene %2 of %3")
                                     .arg(withShots ? 4 : 3)
                                     .arg(m_promptStagesSeen)
                                     .arg(m_sceneCountRequested));
    }
    const qsizetype colon = stage.indexOf(QLatin1Char(':'));
    if (colon > 0 && (stage.startsWith(QLatin1String("prompts:")) || stage.startsWith(QLatin1String("shots:")))) {
        QString& pending = m_pendingTokens[view];
        if (!view->document()->isEmpty() || !pending.isEmpty())
            pending += QStringLiteral("\n\n");
        pending += QStringLiteral("── %1 ──\n").arg(stage.mid(colon + 1));
    }
}

// Stages of the generation as far as the panel knows: 4 once a shots stage was seen.
int StoryPanel::stageCount() const
{
    return (m_expectShots || m_shotStagesSeen > 0) ? 4 : 3;
}

void StoryPanel::onToken(const QString& stage, const QString& text)
{
    m_pendingTokens[streamFor(stage)] += text;
    if (!m_flushTimer->isActive())
        m_flushTimer->start();
}

void StoryPanel::flushTokens()
{
    m_flushTimer->stop();
    for (auto it = m_pendingTokens.begin(); it != m_pendingTokens.end(); ++it) {
        if (it.value().isEmpty())
            continue;
        QPlainTextEdit* view = it.key();
        QTextCursor cursor(view->document());
        cursor.movePosition(QTextCursor::End);
        // "At the end" = the end of the text is on screen. The scroll bar cannot tell: it counts
        // blocks, and one streamed answer is a single long block.
        const bool follow = view->cursorRect(cursor).top() <= view->viewport()->rect().bottom();
        cursor.insertText(it.value());
        // Follow the stream only while the operator is at its end; someone reading higher up
        // keeps their place.
        if (follow) {
            view->moveCursor(QTextCursor::End);
            view->ensureCursorVisible();
        }
    }
    m_pendingTokens.clear();
}

void StoryPanel::onFinished(Outcome outcome, const story::Story& story, const QString& error)
{
    flushTokens();
    const Mode mode = m_mode;
    m_mode = Mode::Idle;
    if (m_service)
        m_service->deleteLater();
    m_service = nullptr;
    m_progress->setRange(0, 1);
    m_progress->setValue(outcome == Outcome::Ok ? 1 : 0);

    switch (outcome) {
    case Outcome::Ok:
        if (mode == Mode::Generating) {
            m_doc->setStory(story);
            m_storyTabs->setCurrentIndex(1);
            m_progressLabel->setText(QStringLiteral("Done: %1 scenes").arg(story.scenes.size()));
            showMessage(
                Tone::Good,
                QStringLiteral("Story generated: %1 scenes. Review and edit it, then save it (Ctrl+S).")
                    .arg(story.scenes.size()));
        } else {
            const int row = [&] {
                for (int i = 0; i < story.scenes.size(); ++i)
                    if (story.scenes.at(i).id == m_regenSceneId)
                        return i;
                return -1;
            }();
            if (row < 0 || !m_doc->setScenePrompts(m_regenSceneId, story.scenes.at(row).prompt,
                                                   story.scenes.at(row).negativePrompt)) {
                m_progressLabel->setText(QStringLiteral("Regeneration discarded"));
                showMessage(Tone::Warning,
                            QStringLiteral("%1 is no longer in the story; the new prompt was discarded.")
                                .arg(m_regenSceneId));
            } else {
                m_progressLabel->setText(QStringLiteral("Done: %1 has a new prompt").arg(m_regenSceneId));
                showMessage(
                    Tone::Good,
                    QStringLiteral("%1 has a new prompt (about %2 tokens); the other scenes are unchanged.")
                        .arg(m_regenSceneId)
                        .arg(llm::StoryGenerator::estimateTokens(story.scenes.at(row).prompt)));
            }
        }
        break;
    case Outcome::Cancelled:
        m_progressLabel->setText(QStringLiteral("Idle (cancelled)"));
        showMessage(Tone::Info, mode == Mode::Generating
                                    ? QStringLiteral("Generation cancelled; the story you had is unchanged.")
                                    : QStringLiteral("Regeneration of %1 cancelled; its prompt is unchanged.")
                                          .arg(m_regenSceneId));
        break;
    case Outcome::LlmUnavailable:
        m_progressLabel->setText(QStringLiteral("Idle (LLM unavailable)"));
        showMessage(Tone::Error,
                    QStringLiteral("%1\nThe LLM address, model and key are in the settings.").arg(error));
        break;
    case Outcome::BadInput:
        m_progressLabel->setText(QStringLiteral("Idle"));
        showMessage(Tone::Error, error);
        break;
    case Outcome::GenerationFailed:
        m_progressLabel->setText(QStringLiteral("Idle (failed)"));
        showMessage(
            Tone::Error,
            QStringLiteral(
                "The model's answers could not be used: %1\nWhat to do: press %2 again; if it keeps failing, "
                "load a larger instruction-tuned model, ask for fewer scenes, or raise the model's context "
                "length. The answers are in the stage tabs.")
                .arg(error, mode == Mode::Generating ? QStringLiteral("Generate")
                                                     : QStringLiteral("Regenerate scene")));
        break;
    }
    updateActions();
}

void StoryPanel::showMessage(Tone tone, const QString& text)
{
    using Status = StatusColor::Status;
    QString colour;
    switch (tone) {
    case Tone::Info:
        colour = palette().color(QPalette::WindowText).name();
        break;
    case Tone::Good:
        colour = StatusColor::color(Status::Ok, palette()).name();
        break;
    case Tone::Warning:
        colour = StatusColor::color(Status::Warning, palette()).name();
        break;
    case Tone::Error:
        colour = StatusColor::color(Status::Bad, palette()).name();
        break;
    }
    m_message->setStyleSheet(QStringLiteral("QLabel { color: %1; }").arg(colour));
    m_message->setText(text);
    m_message->setToolTip(tone == Tone::Error
                              ? QStringLiteral("Red: the last action failed; the text says what to do")
                              : QString());
    m_message->setVisible(true);
}

void StoryPanel::updateActions()
{
    const bool idle = m_mode == Mode::Idle;
    const bool fileBusy = m_doc->isBusy();
    m_generate->setEnabled(idle && m_template->count() > 0);
    m_cancel->setEnabled(!idle);
    m_regenerate->setEnabled(idle && !fileBusy && !selectedSceneId().isEmpty());
    // A story replaced while a scene regenerates or while it is written would lose one of them.
    m_open->setEnabled(idle && !fileBusy);
    m_save->setEnabled(!fileBusy && m_doc->hasStory());
    m_saveAs->setEnabled(!fileBusy && m_doc->hasStory());
    for (QWidget* w : std::initializer_list<QWidget*>{m_idea, m_genre, m_template, m_sceneCount, m_seedCheck})
        w->setEnabled(idle);
    m_seed->setEnabled(idle && m_seedCheck->isChecked());
}

void StoryPanel::updatePathLabel()
{
    const QString path = m_doc->path();
    QString text = path.isEmpty() ? (m_doc->hasStory() ? QStringLiteral("(not saved yet)")
                                                       : QStringLiteral("(no story)"))
                                  : QFileInfo(path).fileName();
    if (m_doc->isDirty())
        text += QStringLiteral("  • unsaved changes");
    m_pathLabel->setText(text);
    m_pathLabel->setToolTip(
        path.isEmpty()
            ? QStringLiteral("The story has no file yet; Save asks where to put it")
            : QDir::toNativeSeparators(path) +
                  (m_doc->isDirty() ? QStringLiteral("\n• = edited since the last save") : QString()));
    updateActions();
}

void StoryPanel::reloadBible()
{
    m_loadingFields = true;
    m_title->setText(m_doc->field(Field::Title));
    m_storyGenre->setText(m_doc->field(Field::Genre));
    m_logline->setText(m_doc->field(Field::Logline));
    setTextKeepingCursor(m_vision, m_doc->field(Field::DirectorsVision));
    setTextKeepingCursor(m_setting, m_doc->field(Field::Setting));
    setTextKeepingCursor(m_outline, m_doc->field(Field::PlotOutline));
    setTextKeepingCursor(m_characters, m_doc->field(Field::Characters));
    m_loadingFields = false;
}

QString StoryPanel::selectedSceneId() const
{
    const int row = m_sceneTable->currentIndex().row();
    if (row < 0 || row >= m_doc->sceneModel()->rowCount())
        return {};
    return m_doc->sceneModel()->scenes().at(row).id;
}

void StoryPanel::showSelectedScene()
{
    if (m_loadingFields)
        return;
    const int row = m_sceneTable->currentIndex().row();
    const bool have = row >= 0 && row < m_doc->sceneModel()->rowCount();
    m_loadingFields = true;
    if (have) {
        const story::StoryScene& sc = m_doc->sceneModel()->scenes().at(row);
        m_sceneHeading->setText(sc.title.isEmpty() ? sc.id : QStringLiteral("%1 · %2").arg(sc.id, sc.title));
        m_sceneHeading->setToolTip(sc.summary);
        setTextKeepingCursor(m_prompt, sc.prompt);
        setTextKeepingCursor(m_negative, sc.negativePrompt);
    } else {
        m_sceneHeading->setText(QStringLiteral("No scene selected"));
        m_sceneHeading->setToolTip(QString());
        m_prompt->clear();
        m_negative->clear();
    }
    m_prompt->setEnabled(have);
    m_negative->setEnabled(have);
    m_loadingFields = false;
    updatePromptInfo();
}

void StoryPanel::updatePromptInfo()
{
    if (!m_prompt->isEnabled()) {
        m_promptInfo->clear();
        return;
    }
    const int tokens = llm::StoryGenerator::estimateTokens(m_prompt->toPlainText().trimmed());
    const bool inRange =
        tokens >= llm::StoryGenerator::kMinPromptTokens && tokens <= llm::StoryGenerator::kMaxPromptTokens;
    m_promptInfo->setText(QStringLiteral("about %1 tokens%2")
                              .arg(tokens)
                              .arg(inRange ? QString()
                                           : QStringLiteral(" (the checks expect %1 to %2)")
                                                 .arg(llm::StoryGenerator::kMinPromptTokens)
                                                 .arg(llm::StoryGenerator::kMaxPromptTokens)));
}

void StoryPanel::openStory(const QString& path)
{
    if (m_mode != Mode::Idle) {
        showMessage(
            Tone::Warning,
            QStringLiteral("Wait for the generation to finish (or cancel it) before opening a story."));
        return;
    }
    m_doc->open(path);
}

void StoryPanel::saveStory()
{
    if (!m_doc->hasStory())
        return;
    if (m_doc->path().isEmpty()) {
        m_saveAs->click();
        return;
    }
    m_doc->save();
}

void StoryPanel::saveStoryAs(const QString& path)
{
    m_doc->saveAs(path);
}

} // namespace gd::ui
