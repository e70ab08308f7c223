#include "quality/EntityLinkage.h"

#include <algorithm>

namespace gd::quality {

namespace {

// One name form to look for: its words, and whether it belongs to a bible character.
struct NameForm
{
    QStringList words;
    bool bible = false;
};

// Full names before first names (longer forms first), bible before non-bible on equal length,
// so the scan below always takes the most specific, bible-preferring match.
QVector<NameForm> nameForms(const QStringList& bibleNames, const QStringList& otherNames)
{
    QVector<NameForm> forms;
    auto add = [&forms](const QString& name, bool bible) {
        const QStringList w = EntityLinkage::words(name);
        if (w.isEmpty())
            return;
        forms.append({w, bible});
        if (w.size() > 1)
            forms.append({QStringList{w.first()}, bible});
    };
    for (const QString& n : bibleNames)
        add(n, true);
    for (const QString& n : otherNames)
        add(n, false);
    std::stable_sort(forms.begin(), forms.end(), [](const NameForm& a, const NameForm& b) {
        if (a.words.size() != b.words.size())
            return a.words.size() > b.words.size();
        return a.bible && !b.bible;
    });
    return forms;
}

bool matchesAt(const QStringList& text, qsizetype at, const QStringList& name)
{
    if (at + name.size() > text.size())
        return false;
    for (qsizetype i = 0; i < name.size(); ++i)
        if (text.at(at + i) != name.at(i))
            return false;
    return true;
}

} // namespace

std::optional<double> EntityLinkageCounts::score() const
{
    if (denominator() == 0)
        return std::nullopt;
    return static_cast<double>(numerator()) / static_cast<double>(denominator());
}

const QStringList& EntityLinkage::pronouns()
{
    static const QStringList list{QStringLiteral("he"),   QStringLiteral("she"),   QStringLiteral("they"),
                                  QStringLiteral("him"),  QStringLiteral("her"),   QStringLiteral("them"),
                                  QStringLiteral("his"),  QStringLiteral("hers"),  QStringLiteral("their")};
    return list;
}

QStringList EntityLinkage::words(const QString& text)
{
    QStringList out;
    QString current;
    for (const QChar c : text) {
        if (c.isLetterOrNumber()) {
            current.append(c.toLower());
        } else if (!current.isEmpty()) {
            out.append(current);
            current.clear();
        }
    }
    if (!current.isEmpty())
        out.append(current);
    return out;
}

EntityLinkageCounts EntityLinkage::compute(const QStringList& bibleNames, const QStringList& otherNames,
                                           const QStringList& sceneTexts, QVector<EntityLinkageCounts>* perScene)
{
    const QVector<NameForm> forms = nameForms(bibleNames, otherNames);
    EntityLinkageCounts total;
    bool previousSceneHadBible = false;
    if (perScene)
        perScene->clear();

    for (const QString& text : sceneTexts) {
        const QStringList w = words(text);
        EntityLinkageCounts scene;
        bool bibleSeen = false;
        qsizetype i = 0;
        while (i < w.size()) {
            const NameForm* hit = nullptr;
            for (const NameForm& f : forms) {
                if (matchesAt(w, i, f.words)) {
                    hit = &f;
                    break;
                }
            }
            if (hit) {
                ++scene.namedMentions;
                if (hit->bible) {
                    ++scene.matchedMentions;
                    bibleSeen = true;
                }
                i += hit->words.size();
                continue;
            }
            if (pronouns().contains(w.at(i))) {
                ++scene.pronouns;
                if (bibleSeen || previousSceneHadBible)
                    ++scene.linkedPronouns;
            }
            ++i;
        }
        if (scene.denominator() > 0)
            scene.scenesCounted = 1;
        total.namedMentions += scene.namedMentions;
        total.matchedMentions += scene.matchedMentions;
        total.pronouns += scene.pronouns;
        total.linkedPronouns += scene.linkedPronouns;
        total.scenesCounted += scene.scenesCounted;
        if (perScene)
            perScene->append(scene);
        previousSceneHadBible = bibleSeen;
    }
    return total;
}

} // namespace gd::quality
