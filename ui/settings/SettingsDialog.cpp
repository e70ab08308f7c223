#include "settings/SettingsDialog.h"

#include "comfy/LegacyProfileImporter.h"
#include "comfy/WorkflowProfileLoader.h"
#include "common/AppPaths.h"
#include "common/StatusColor.h"
#include "settings/ServerFolderList.h"
#include "settings/WorkflowImportDialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QFutureWatcher>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

namespace gd::ui {

using Key = pipeline::Settings::Key;
using Kind = pipeline::Settings::Kind;

namespace {

// What an import file held, read and parsed off the GUI thread.
struct ImportCandidates
{
    QVector<comfy::WorkflowProfile> profiles;
    QVector<QStringList> notes; // per profile
    QStringList problems;       // whole-file problems (unreadable, not JSON, ...)
};

ImportCandidates readImportFile(const QString& path)
{
    ImportCandidates c;
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        c.problems << QStringLiteral("cannot open %1: %2").arg(path, f.errorString());
        return c;
    }
    if (f.size() > 32 * 1024 * 1024) {
        c.problems << QStringLiteral("%1 is larger than 32 MB; a workflow is never that big").arg(path);
        return c;
    }
    QJsonParseError pe{};
    const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject()) {
        c.problems << QStringLiteral("%1 is not a JSON object (%2)").arg(path, pe.errorString());
        return c;
    }
    const QJsonObject o = doc.object();
    if (o.contains(QLatin1String("workflowProfiles"))) {
        // The earlier app's profiles file, as `gemdirect profile import` reads it.
        const auto result = comfy::LegacyProfileImporter::import(o);
        for (const auto& p : result.profiles) {
            c.profiles << p;
            c.notes << QStringList();
        }
        c.problems << result.problems;
        return c;
    }
    QString name = QFileInfo(path).completeBaseName();
    name.replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9._-]")), QStringLiteral("-"));
    while (name.startsWith(QLatin1Char('.')))
        name.remove(0, 1);
    QStringList notes;
    comfy::WorkflowProfile p = comfy::WorkflowProfileLoader::fromGraph(name, o, &notes);
    p.graph = o;
    c.profiles << p;
    c.notes << notes;
    return c;
}

QString displayValue(const QVariant& v)
{
    return v.toString();
}

} // namespace

QString SettingsDialog::editorName(Key key)
{
    return QStringLiteral("edit_") + pipeline::Settings::name(key).replace(QLatin1Char('/'), QLatin1Char('_'));
}

QString SettingsDialog::problemName(Key key)
{
    return QStringLiteral("problem_") + pipeline::Settings::name(key).replace(QLatin1Char('/'), QLatin1Char('_'));
}

SettingsDialog::SettingsDialog(pipeline::Settings& settings, QWidget* parent)
    : QDialog(parent), m_settings(settings), m_buttons(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this))
{
    setWindowTitle(QStringLiteral("Settings"));
    m_buttons->button(QDialogButtonBox::Ok)->setObjectName(QStringLiteral("okButton"));
    connect(m_buttons, &QDialogButtonBox::accepted, this, &SettingsDialog::save);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    struct Group
    {
        const char* title;
        QList<Key> keys;
    };
    const QList<Group> groups{
        {"LLM (story writing)", {Key::LlmUrl, Key::LlmModel, Key::LlmApiKey}},
        {"ComfyUI (rendering)",
         {Key::ComfyUrl, Key::ComfyOutputDir, Key::ComfyToken, Key::WorkflowProfile, Key::ComfyServers,
          Key::ComfyServerOutputDirs, Key::ComfyServerTokens}},
        {"Queue policy",
         {Key::QueuePreset, Key::SceneMaxWaitSeconds, Key::SceneHistoryMaxAttempts, Key::SceneHistoryPollIntervalSeconds,
          Key::ScenePostExecutionTimeoutSeconds, Key::SceneRetryBudget, Key::SceneFrameFloor,
          Key::SceneDoneMarkerTimeoutSeconds, Key::StabilityWindowSeconds, Key::StabilityRetries}},
        {"Storage", {Key::RunsRoot, Key::HistoryDb}},
        {"Appearance", {Key::Theme}},
    };

    auto* content = new QWidget;
    auto* contentLayout = new QVBoxLayout(content);
    for (const Group& g : groups) {
        auto* box = new QGroupBox(QLatin1String(g.title), content);
        auto* form = new QFormLayout(box);
        form->setFieldGrowthPolicy(QFormLayout::ExpandingFieldsGrow);
        for (Key key : g.keys) {
            QWidget* field = makeEditor(key);
            auto* column = new QVBoxLayout;
            column->setSpacing(1);
            column->addWidget(field);
            auto* problem = new QLabel(box);
            problem->setObjectName(problemName(key));
            problem->setWordWrap(true);
            problem->setTextFormat(Qt::PlainText);
            problem->hide();
            m_problemLabels.insert(key, problem);
            column->addWidget(problem);
            if (m_settings.hasSessionOverride(key)) {
                auto* note = new QLabel(QStringLiteral("This session uses %1 (--sandbox); the saved value below is kept.")
                                            .arg(pipeline::Settings::isSecret(key) ? QStringLiteral("its own value")
                                                                                   : m_settings.string(key)),
                                        box);
                note->setObjectName(QStringLiteral("override_") + editorName(key).mid(5));
                note->setWordWrap(true);
                note->setEnabled(false); // the palette's muted text colour
                column->addWidget(note);
            }
            auto* label = new QLabel(pipeline::Settings::label(key), box);
            label->setToolTip(pipeline::Settings::help(key));
            label->setBuddy(m_editors.value(key));
            form->addRow(label, column);
        }
        contentLayout->addWidget(box);
    }
    contentLayout->addStretch(1);
    auto* scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    scroll->setWidget(content);
    scroll->setFrameShape(QFrame::NoFrame);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(scroll, 1);
    layout->addWidget(m_buttons);
    resize(680, 720);
    revalidate();
}

QWidget* SettingsDialog::makeEditor(Key key)
{
    const Kind kind = pipeline::Settings::kind(key);
    const QString tip = pipeline::Settings::help(key);
    QWidget* editorWidget = nullptr;
    QWidget* field = nullptr;
    if (kind == Kind::Choice) {
        auto* combo = new QComboBox(this);
        static const QHash<QString, QString> names{{QStringLiteral("standard"), QStringLiteral("Standard")},
                                                   {QStringLiteral("fastIteration"), QStringLiteral("FastIteration")},
                                                   {QStringLiteral("system"), QStringLiteral("System")},
                                                   {QStringLiteral("light"), QStringLiteral("Light")},
                                                   {QStringLiteral("dark"), QStringLiteral("Dark")}};
        for (const QString& c : pipeline::Settings::choices(key))
            combo->addItem(names.value(c, c), c);
        combo->setCurrentIndex(std::max(0, combo->findData(m_settings.storedValue(key).toString())));
        connect(combo, &QComboBox::currentIndexChanged, this, &SettingsDialog::revalidate);
        editorWidget = field = combo;
    } else if (kind == Kind::FolderMap) {
        // One row per pool server, following the servers field as it is edited.
        auto* folders = new ServerFolderList(this);
        folders->setValue(m_settings.storedValue(key).toString());
        const auto follow = [folders](const QString& servers) {
            folders->setServers(pipeline::Settings::serverLabels(servers));
        };
        if (auto* servers = qobject_cast<QLineEdit*>(m_editors.value(Key::ComfyServers))) {
            follow(servers->text());
            connect(servers, &QLineEdit::textChanged, folders, follow);
        } else {
            follow(m_settings.storedValue(Key::ComfyServers).toString());
        }
        connect(folders, &ServerFolderList::changed, this, &SettingsDialog::revalidate);
        editorWidget = field = folders;
    } else if (kind == Kind::Profile) {
        m_profile = new QComboBox(this);
        m_profile->setEditable(true);
        m_profile->setInsertPolicy(QComboBox::NoInsert);
        connect(m_profile, &QComboBox::currentTextChanged, this, &SettingsDialog::revalidate);
        m_import = new QPushButton(QStringLiteral("Import exported API workflow…"), this);
        m_import->setObjectName(QStringLiteral("importWorkflowButton"));
        m_import->setToolTip(QStringLiteral("In ComfyUI use Workflow > Export (API), then pick the file here to map its "
                                            "inputs to roles and save it as a profile. The earlier app's "
                                            "legacy-profiles.json works too."));
        connect(m_import, &QPushButton::clicked, this, &SettingsDialog::chooseImportFile);
        m_importStatus = new QLabel(this);
        m_importStatus->setObjectName(QStringLiteral("importStatus"));
        m_importStatus->setWordWrap(true);
        m_importStatus->hide();
        auto* w = new QWidget(this);
        auto* col = new QVBoxLayout(w);
        col->setContentsMargins(0, 0, 0, 0);
        auto* row = new QHBoxLayout;
        row->addWidget(m_profile, 1);
        row->addWidget(m_import);
        col->addLayout(row);
        col->addWidget(m_importStatus);
        editorWidget = m_profile;
        field = w;
        reloadProfiles(m_settings.storedValue(key).toString());
    } else {
        auto* edit = new QLineEdit(this);
        if (kind == Kind::Secret) {
            edit->setEchoMode(QLineEdit::Password);
            edit->setPlaceholderText(QStringLiteral("(none)"));
        }
        if (pipeline::Settings::isQueueKnob(key)) {
            // Empty means "the preset's value", shown as the placeholder so the operator sees what applies.
            if (m_settings.isExplicitlySet(key))
                edit->setText(displayValue(m_settings.storedValue(key)));
        } else {
            edit->setText(displayValue(m_settings.storedValue(key)));
        }
        if (key == Key::LlmModel)
            edit->setPlaceholderText(QStringLiteral("(the model the server has loaded)"));
        if (key == Key::ComfyOutputDir)
            edit->setPlaceholderText(QStringLiteral("(ComfyUI runs on another machine)"));
        connect(edit, &QLineEdit::textChanged, this, &SettingsDialog::revalidate);
        editorWidget = edit;
        field = edit;
        if (kind == Kind::Directory || kind == Kind::Path) {
            auto* browse = new QPushButton(QStringLiteral("Browse…"), this);
            browse->setObjectName(QStringLiteral("browse_") + editorName(key).mid(5));
            connect(browse, &QPushButton::clicked, this, [this, edit, key] {
                const QString start = edit->text().isEmpty() ? QDir::homePath() : edit->text();
                const QString chosen = key == Key::HistoryDb
                                           ? QFileDialog::getSaveFileName(this, pipeline::Settings::label(key), start,
                                                                          QStringLiteral("SQLite database (*.sqlite *.db)"),
                                                                          nullptr, QFileDialog::DontConfirmOverwrite)
                                           : QFileDialog::getExistingDirectory(this, pipeline::Settings::label(key), start);
                if (!chosen.isEmpty())
                    edit->setText(QDir::toNativeSeparators(chosen));
            });
            auto* w = new QWidget(this);
            auto* row = new QHBoxLayout(w);
            row->setContentsMargins(0, 0, 0, 0);
            row->addWidget(edit, 1);
            row->addWidget(browse);
            field = w;
        }
    }
    editorWidget->setObjectName(editorName(key));
    editorWidget->setToolTip(tip);
    m_editors.insert(key, editorWidget);
    return field;
}

QVariant SettingsDialog::editorValue(Key key) const
{
    QWidget* w = m_editors.value(key);
    if (auto* combo = qobject_cast<QComboBox*>(w))
        return combo->isEditable() ? combo->currentText().trimmed() : combo->currentData().toString();
    if (auto* edit = qobject_cast<QLineEdit*>(w))
        return pipeline::Settings::isSecret(key) ? edit->text() : edit->text().trimmed();
    if (auto* folders = qobject_cast<ServerFolderList*>(w))
        return folders->value();
    return {};
}

void SettingsDialog::revalidate()
{
    if (m_editors.size() != pipeline::Settings::keys().size())
        return; // still building the form
    QHash<Key, QVariant> candidate;
    for (Key key : pipeline::Settings::keys())
        candidate.insert(key, editorValue(key));
    m_problems = m_settings.validate(candidate);
    for (auto it = m_problemLabels.constBegin(); it != m_problemLabels.constEnd(); ++it) {
        QString text;
        for (const auto& p : m_problems) {
            if (p.key == it.key())
                text = p.message;
        }
        it.value()->setText(text);
        it.value()->setVisible(!text.isEmpty());
        QPalette pal = it.value()->palette();
        pal.setColor(QPalette::WindowText, StatusColor::color(StatusColor::Status::Bad, palette()));
        it.value()->setPalette(pal);
    }
    // Knob placeholders show what the preset being edited gives each knob left empty.
    const QString preset = editorValue(Key::QueuePreset).toString();
    for (Key key : pipeline::Settings::keys()) {
        if (auto* edit = qobject_cast<QLineEdit*>(m_editors.value(key)); edit && pipeline::Settings::isQueueKnob(key))
            edit->setPlaceholderText(QStringLiteral("preset: %1").arg(pipeline::Settings::presetValue(key, preset).toString()));
    }
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(m_problems.isEmpty());
    m_buttons->button(QDialogButtonBox::Ok)->setToolTip(
        m_problems.isEmpty() ? QString() : QStringLiteral("Fix the %1 problem(s) shown in red first.").arg(m_problems.size()));
}

void SettingsDialog::save()
{
    revalidate();
    if (!m_problems.isEmpty())
        return;
    QStringList failures;
    for (Key key : pipeline::Settings::keys()) {
        const QVariant v = editorValue(key);
        const bool knob = pipeline::Settings::isQueueKnob(key);
        const QString now = knob && !m_settings.isExplicitlySet(key) ? QString() : m_settings.storedValue(key).toString();
        if (v.toString() == now)
            continue;
        const Error e = m_settings.set(key, v);
        if (!e.isNull())
            failures << e.message;
    }
    if (!failures.isEmpty()) {
        m_problemLabels.value(Key::RunsRoot)->setText(failures.join(QLatin1Char('\n')));
        m_problemLabels.value(Key::RunsRoot)->show();
        return;
    }
    accept();
}

void SettingsDialog::reloadProfiles(const QString& select)
{
    const QSignalBlocker block(m_profile);
    m_profile->clear();
    for (const QString& name : comfy::WorkflowProfileLoader::builtinNames())
        m_profile->addItem(name, name);
    const QDir user(AppPaths::userProfileDir());
    for (const QString& f : user.entryList({QStringLiteral("*.profile.json")}, QDir::Files, QDir::Name)) {
        const QString name = f.chopped(13);
        if (m_profile->findText(name) < 0)
            m_profile->addItem(name, name);
    }
    m_profile->setEditText(select);
    const int idx = m_profile->findText(select);
    if (idx >= 0)
        m_profile->setCurrentIndex(idx);
    else
        m_profile->setEditText(select);
}

void SettingsDialog::chooseImportFile()
{
    const QString path = QFileDialog::getOpenFileName(this, QStringLiteral("Import exported API workflow"), QDir::homePath(),
                                                      QStringLiteral("ComfyUI API workflow (*.json);;All files (*)"));
    if (!path.isEmpty())
        importWorkflow(path);
}

void SettingsDialog::importWorkflow(const QString& path)
{
    m_import->setEnabled(false);
    m_importStatus->setText(QStringLiteral("Reading %1…").arg(QFileInfo(path).fileName()));
    m_importStatus->show();
    auto* watcher = new QFutureWatcher<ImportCandidates>(this);
    connect(watcher, &QFutureWatcher<ImportCandidates>::finished, this, [this, watcher] {
        const ImportCandidates c = watcher->result();
        watcher->deleteLater();
        m_import->setEnabled(true);
        QString saved;
        for (int i = 0; i < c.profiles.size(); ++i) {
            WorkflowImportDialog dialog(c.profiles.at(i), c.notes.at(i), AppPaths::userProfileDir(), this);
            if (dialog.exec() == QDialog::Accepted)
                saved = dialog.savedName();
        }
        QStringList lines;
        if (!saved.isEmpty()) {
            reloadProfiles(saved);
            lines << QStringLiteral("Saved profile \"%1\" in %2 and selected it.").arg(saved, AppPaths::userProfileDir());
        } else if (c.profiles.isEmpty()) {
            lines << QStringLiteral("Nothing was imported.");
        }
        lines << c.problems;
        const QString message = lines.join(QLatin1Char('\n'));
        m_importStatus->setText(message);
        revalidate();
        Q_EMIT importFinished(saved, message);
    });
    watcher->setFuture(QtConcurrent::run(readImportFile, path));
}

} // namespace gd::ui
