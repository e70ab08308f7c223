#include "sandbox/StoryCorpus.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSet>
#include <cmath>

namespace gd::sandbox {

namespace {

constexpr int kMaxDepth = 16;
constexpr int kMaxValues = 5000;        // values in one answer
constexpr int kMaxItems = 500;          // items in one array
constexpr int kMaxStringLength = 20000; // characters a minLength may ask for
constexpr int kMaxAnswerChars = 200000; // characters all minLength padding of one answer may add

QStringList list(std::initializer_list<const char*> items)
{
    QStringList out;
    for (const char* item : items)
        out << QString::fromUtf8(item);
    return out;
}

const QStringList& firstNames()
{
    static const QStringList l = list(
        {"Mara", "Elias",   "Noor",  "Tobias", "Ines",    "Kasimir", "Juno",   "Rafe",   "Selin",   "Oskar",
         "Leda", "Amara",   "Corin", "Yusuf",  "Wren",    "Dalia",   "Henrik", "Ysolde", "Matteo",  "Saoirse",
         "Ilya", "Beatrix", "Tomas", "Anouk",  "Caspian", "Nadia",   "Emrys",  "Liora",  "Bastien", "Keiko"});
    return l;
}

const QStringList& lastNames()
{
    static const QStringList l =
        list({"Voss",      "Calder",   "Halloran", "Okafor", "Marchetti", "Lindqvist", "Ashdown", "Brennan",
              "Castellan", "Ferreira", "Hale",     "Kovac",  "Moreau",    "Nakamura",  "Petrov",  "Quill",
              "Ravel",     "Sorensen", "Thorne",   "Varga",  "Whitlock",  "Yilmaz",    "Zeller",  "Aldana",
              "Byrne",     "Drummond", "Everly",   "Graves", "Ivers",     "Laurent"});
    return l;
}

const QStringList& roles()
{
    static const QStringList l =
        list({"protagonist", "antagonist", "mentor", "ally", "rival", "confidant", "trickster", "guardian"});
    return l;
}

const QStringList& descriptors()
{
    static const QStringList l = list({
        "weathered woman in an orange storm coat",
        "tall man with a silver beard and a patched navy greatcoat",
        "young engineer with cropped black hair and oil-stained overalls",
        "elderly archivist in round spectacles and a moss-green cardigan",
        "wiry courier with a shaved head and a reflective yellow jacket",
        "soft-spoken doctor in a crisp white coat with a red scarf",
        "broad-shouldered fisherman in a cable-knit sweater and rubber boots",
        "sharp-eyed detective in a charcoal trench coat and grey fedora",
        "teenage girl with freckles, braided copper hair and a denim jacket",
        "gaunt stranger in a long black duster with a scarred cheek",
        "cheerful baker with flour-dusted forearms and a striped apron",
        "stern captain in a dark blue uniform with brass buttons",
        "lanky musician with a battered violin case and a wool beanie",
        "quiet botanist in a wide straw hat and mud-caked linen shirt",
        "retired boxer with a crooked nose and a faded leather jacket",
        "silver-haired scientist in a lab coat over a turtleneck",
        "nervous clerk with ink-stained fingers and a loose tie",
        "fearless pilot in a sheepskin flight jacket and goggles",
        "masked thief in a fitted grey hoodie and fingerless gloves",
        "gentle giant with a bushy red beard and a canvas tool belt",
        "poised diplomat in an emerald silk suit and pearl earrings",
        "scrappy street kid in an oversized parka and mismatched sneakers",
        "hooded wanderer with a walking staff and a frayed travelling cloak",
        "mechanical android with a cracked porcelain faceplate and glowing blue eyes",
    });
    return l;
}

const QStringList& settings()
{
    static const QStringList l = list({
        "A lighthouse on the last rock of a flooded planet, lashed by endless storms.",
        "A rain-soaked harbour city of neon signs, rusting cranes and narrow canals.",
        "A snowbound mountain observatory cut off from the valley below.",
        "A sprawling desert caravanserai at the crossroads of three dying trade routes.",
        "An overgrown botanical station orbiting a gas giant.",
        "A quiet seaside village where the tide has stopped coming back.",
        "A labyrinthine night market beneath an elevated railway.",
        "A decaying grand hotel on the edge of a salt lake.",
        "A frontier mining town wedged into a canyon of red stone.",
        "A drowned cathedral district patrolled by lantern boats.",
        "A remote research base under the Antarctic ice shelf.",
        "A walled medieval city besieged by a slow, silent fog.",
        "A generation ship whose gardens are failing one deck at a time.",
        "A sun-bleached island of abandoned film sets and tin-roofed studios.",
        "A forest of giant redwoods hiding a forgotten railway line.",
        "A floating market of junks and houseboats on a monsoon river.",
        "A brutalist university campus during a week-long blackout.",
        "A border checkpoint high in a windswept mountain pass.",
        "A crumbling observatory town where the stars have started to go out.",
        "A candle-lit opera house that reopens after forty years of silence.",
    });
    return l;
}

const QStringList& moods()
{
    static const QStringList l =
        list({"tense",     "melancholic", "hopeful",  "eerie",    "triumphant", "tender",      "foreboding",
              "wistful",   "frantic",     "serene",   "ominous",  "playful",    "bittersweet", "defiant",
              "dreamlike", "somber",      "electric", "desolate", "warm",       "uneasy"});
    return l;
}

const QStringList& cameraMoves()
{
    static const QStringList l = list(
        {"slow dolly in", "handheld tracking shot", "static wide shot", "crane up reveal",
         "low-angle push in", "orbiting steadicam", "whip pan", "slow pan left", "overhead drone descent",
         "rack focus close-up", "dolly out to wide", "over-the-shoulder tracking", "locked-off medium shot",
         "tilt up from the ground", "slow zoom out", "lateral truck right"});
    return l;
}

const QStringList& palettes()
{
    static const QStringList l = list({"teal and sodium orange",
                                       "desaturated blue-grey with warm amber accents",
                                       "deep crimson and charcoal",
                                       "pastel pink and mint",
                                       "emerald and brass gold",
                                       "bleached sand and cobalt",
                                       "moonlit silver and ink black",
                                       "rust red and olive drab",
                                       "candlelight amber and umber shadows",
                                       "neon magenta and electric cyan",
                                       "muted sepia and bone white",
                                       "icy white and glacier blue",
                                       "ochre, terracotta and dusty sage",
                                       "violet dusk and copper",
                                       "forest green and foggy grey",
                                       "stormy slate and lightning white",
                                       "honey gold and deep navy",
                                       "faded denim blue and cream",
                                       "blood orange and midnight purple",
                                       "sun-bleached turquoise and coral"});
    return l;
}

const QStringList& titleAdjectives()
{
    static const QStringList l =
        list({"Last",   "Silent",    "Drowned",  "Hollow",  "Burning",  "Forgotten", "Hidden",
              "Broken", "Endless",   "Glass",    "Iron",    "Midnight", "Crimson",   "Distant",
              "Winter", "Lost",      "Secret",   "Paper",   "Salt",     "Wandering", "Quiet",
              "Golden", "Shattered", "Northern", "Sleeping"});
    return l;
}

const QStringList& titleNouns()
{
    static const QStringList l =
        list({"Lighthouse", "Harbour", "Orchard", "Signal",   "Archive",     "Meridian", "Garden",
              "Frontier",   "Tide",    "Lantern", "Crossing", "Observatory", "Kingdom",  "Station",
              "Canal",      "Choir",   "Compass", "Atlas",    "Ember",       "Horizon",  "Labyrinth",
              "Verdict",    "Orbit",   "Refuge",  "Covenant"});
    return l;
}

const QStringList& sceneTitleNouns()
{
    static const QStringList l =
        list({"Storm Watch",      "First Light",   "The Crossing",   "Broken Glass",   "Low Tide",
              "The Long Night",   "A Door Ajar",   "Ashes and Salt", "The Signal",     "Homecoming",
              "Under the Bridge", "The Reckoning", "Lanterns Out",   "Borrowed Time",  "The Narrow Stair",
              "Cold Harbour",     "Echoes",        "The Last Train", "Open Water",     "Dead Reckoning",
              "The Vigil",        "Counterweight", "Sparks",         "The Quiet Hour", "Turning Tide",
              "Fault Lines",      "The Message",   "Breaking Point", "Daybreak",       "Embers"});
    return l;
}

const QStringList& goals()
{
    static const QStringList l =
        list({"relight the beacon", "deliver a sealed letter", "find a missing sister",
              "repair the failing reactor", "win back a stolen map", "decode a dying broadcast",
              "guide the last refugees across the pass", "expose a forged confession",
              "rebuild the town's broken clock", "escort a witness to the capital",
              "save the orchard from the frost", "recover the lost expedition's logbook",
              "stop a flood from reaching the archive", "reunite a scattered orchestra"});
    return l;
}

const QStringList& stakes()
{
    static const QStringList l =
        list({"the supply ship is lost", "the tide swallows the causeway", "the winter closes the roads",
              "the signal fades for good", "the city council signs the order", "the last lantern burns out",
              "the storm season begins", "the border closes at dawn", "the old rival reaches it first",
              "the oxygen runs out", "the festival fireworks light the powder store"});
    return l;
}

const QStringList& actions()
{
    static const QStringList l = list({
        "climbs the tower as the storm arrives",
        "discovers a message scratched into the wall",
        "argues with an old friend about the plan",
        "slips past the guards at the gate",
        "repairs the machine by lantern light",
        "waits at the platform for a train that may not come",
        "confesses a long-kept secret",
        "races through the market with the stolen key",
        "finds the abandoned camp still warm",
        "faces the rival on the flooded pier",
        "reads the letter aloud in the empty hall",
        "watches the lights of the city go out one by one",
        "shares a quiet meal before the crossing",
        "follows footprints into the fog",
        "lights the signal fire on the cliff",
        "bargains with a smuggler for passage",
        "pulls a survivor from the wreckage",
        "hides the map inside a hollow book",
    });
    return l;
}

const QStringList& consequences()
{
    static const QStringList l = list({
        "but the victory costs more than expected.",
        "and a stranger watches from the shadows.",
        "while the storm tears at the shutters.",
        "and realises the clock is running out.",
        "as an old promise finally comes due.",
        "and the truth changes everything.",
        "while the whole town holds its breath.",
        "and the way back is suddenly gone.",
        "as the first light breaks over the water.",
        "and learns who has been lying all along.",
    });
    return l;
}

const QStringList& shots()
{
    static const QStringList l = list(
        {"cinematic wide shot", "cinematic medium shot", "intimate close-up", "sweeping establishing shot",
         "low-angle hero shot", "dramatic profile shot", "over-the-shoulder shot", "high-angle wide shot"});
    return l;
}

const QStringList& lighting()
{
    static const QStringList l =
        list({"volumetric light through drifting fog", "hard rim light from a single lantern",
              "soft golden hour backlight", "cold moonlight with deep shadows",
              "flickering neon reflections on wet stone", "overcast diffuse daylight",
              "warm candlelight and long shadows", "harsh sodium street lamps",
              "lightning flashes against a black sky", "dappled sunlight through leaves"});
    return l;
}

const QStringList& details()
{
    static const QStringList l = list({
        "rain streaks across the frame",
        "dust motes hanging in the air",
        "weathered textures and peeling paint",
        "puddles mirroring the sky",
        "wind tugging at coats and hair",
        "distant silhouettes against the horizon",
        "steam rising from vents",
        "scattered papers on the floor",
        "cracked glass catching the light",
        "footprints in fresh snow",
        "sea spray bursting over the rocks",
        "ivy creeping over stone walls",
        "old brass instruments gleaming",
        "rows of flickering candles",
        "smoke curling from a chimney",
        "crowded rooftops under low clouds",
        "a flock of birds scattering",
        "fog rolling over the ground",
        "embers drifting upward",
        "tattered flags snapping in the wind",
    });
    return l;
}

const QStringList& styleTags()
{
    static const QStringList l =
        list({"35mm film grain", "anamorphic lens flare", "shallow depth of field", "highly detailed",
              "sharp focus on the subject", "natural skin texture", "balanced composition",
              "rule of thirds framing", "subtle color grading", "photorealistic rendering",
              "atmospheric perspective", "cinematic lighting", "consistent character design",
              "coherent anatomy", "professional cinematography"});
    return l;
}

const QStringList& negatives()
{
    static const QStringList l =
        list({"blurry", "low-resolution", "watermark", "text", "logo", "jpeg artifacts", "extra limbs",
              "deformed hands", "duplicate faces", "oversaturated", "cropped head", "bad anatomy",
              "flat lighting", "noise", "frame border"});
    return l;
}

const QStringList& reasons()
{
    static const QStringList l = list({
        "Characters stay consistent from scene to scene.",
        "Each scene follows causally from the one before it.",
        "The setting is described consistently throughout.",
        "The central conflict is resolved in the final act.",
        "The protagonist's motivation is clear from the opening.",
        "The pacing tightens as the stakes rise.",
    });
    return l;
}

// Second looks of a character: an outfit or state that changes during a story (suffix of the descriptor).
const QVector<QPair<QString, QString>>& lookVariants()
{
    static const QVector<QPair<QString, QString>> l{
        {QStringLiteral("storm-gear"), QStringLiteral("wrapped in a rain-soaked oilskin cape")},
        {QStringLiteral("night-watch"), QStringLiteral("with a hooded lantern and a dark wool scarf")},
        {QStringLiteral("formal"), QStringLiteral("in a pressed dark suit with a silver pin")},
        {QStringLiteral("wounded"), QStringLiteral("with a bandaged forearm and a torn sleeve")},
        {QStringLiteral("disguise"), QStringLiteral("under a wide-brimmed hat and a long grey coat")},
        {QStringLiteral("winter"), QStringLiteral("in a fur-lined parka dusted with snow")},
    };
    return l;
}

const QVector<QPair<QString, QString>>& places()
{
    static const QVector<QPair<QString, QString>> l{
        {QStringLiteral("Lamp room"), QStringLiteral("glass-walled lamp room around a giant brass lens, rain on the panes")},
        {QStringLiteral("Harbour quay"), QStringLiteral("rain-slick stone quay lined with rusting cranes and moored boats")},
        {QStringLiteral("Spiral stair"), QStringLiteral("narrow iron spiral stair lit by caged bulbs, water dripping")},
        {QStringLiteral("Market hall"), QStringLiteral("vaulted market hall of lantern-lit stalls under a cracked glass roof")},
        {QStringLiteral("Observatory dome"), QStringLiteral("copper observatory dome with a brass telescope and star charts")},
        {QStringLiteral("Flooded street"), QStringLiteral("knee-deep flooded street between shuttered shops and neon signs")},
        {QStringLiteral("Signal tower"), QStringLiteral("windswept steel signal tower on a cliff above the sea")},
        {QStringLiteral("Ferry deck"), QStringLiteral("open ferry deck with salt-stained benches and a rolling grey sea")},
    };
    return l;
}

const QStringList& motions()
{
    static const QStringList l = list({"rain streams across the frame", "fog rolls slowly past the camera",
                                       "sparks drift upward into the dark", "waves break against the rocks below",
                                       "lantern light flickers across the walls", "snow swirls in the wind",
                                       "dust hangs in a shaft of light", "the water ripples and settles"});
    return l;
}

const QStringList& stopWords()
{
    static const QStringList l = list({
        "the",
        "and",
        "that",
        "this",
        "with",
        "from",
        "your",
        "into",
        "their",
        "there",
        "which",
        "what",
        "when",
        "where",
        "will",
        "would",
        "should",
        "could",
        "have",
        "been",
        "were",
        "they",
        "them",
        "then",
        "than",
        "each",
        "every",
        "only",
        "also",
        "about",
        "after",
        "before",
        "over",
        "under",
        "must",
        "very",
        "more",
        "most",
        "some",
        "such",
        "these",
        "those",
        "write",
        "return",
        "json",
        "schema",
        "object",
        "array",
        "string",
        "field",
        "fields",
        "using",
        "include",
        "includes",
        "make",
        "sure",
        "please",
        "answer",
        "respond",
        "output",
        "format",
        "valid",
        "story",
        "scene",
        "scenes",
        "prompt",
        "prompts",
        "words",
        "tokens",
        "between",
        "exactly",
        "keep",
        "given",
        "following",
        "null",
        "true",
        "false",
        "name",
        "role",
        "title",
        "summary",
        "mood",
        "themes",
        "characters",
        "visualdescriptor",
        "cameramovement",
        "palette",
        "negativeprompt",
        "setting",
        "logline",
        "plotoutline",
        "render",
        "present",
        "describe",
        "create",
        "generate",
        "provide",
        "based",
        "below",
        "above",
        "scene-",
    });
    return l;
}

// Field labels prompt templates put before a colon ("Camera: slow dolly in") - not character names.
const QStringList& labelWords()
{
    static const QStringList l =
        list({"camera",   "lens",    "lighting", "light",      "palette",      "mood",         "tone",
              "genre",    "idea",    "vision",   "director's", "directors",    "director",     "setting",
              "location", "style",   "negative", "scene",      "story",        "characters",   "character",
              "cast",     "summary", "note",     "notes",      "rules",        "rule",         "task",
              "output",   "schema",  "example",  "important",  "requirements", "instructions", "context",
              "bible",    "themes",  "acts",     "act",        "plot",         "outline",      "logline",
              "format",   "length",  "language"});
    return l;
}

QString capitalised(QString text)
{
    if (!text.isEmpty())
        text[0] = text.at(0).toUpper();
    return text;
}

// Top-level JSON object/array texts embedded in free text (string-aware bracket matching).
QVector<QJsonDocument> embeddedJson(const QString& text)
{
    QVector<QJsonDocument> docs;
    int i = 0;
    while (i < text.size()) {
        const QChar c = text.at(i);
        if (c != QLatin1Char('{') && c != QLatin1Char('[')) {
            ++i;
            continue;
        }
        int depth = 0;
        bool inString = false;
        bool escaped = false;
        int end = -1;
        for (int j = i; j < text.size(); ++j) {
            const QChar d = text.at(j);
            if (inString) {
                if (escaped)
                    escaped = false;
                else if (d == QLatin1Char('\\'))
                    escaped = true;
                else if (d == QLatin1Char('"'))
                    inString = false;
                continue;
            }
            if (d == QLatin1Char('"'))
                inString = true;
            else if (d == QLatin1Char('{') || d == QLatin1Char('['))
                ++depth;
            else if (d == QLatin1Char('}') || d == QLatin1Char(']')) {
                if (--depth == 0) {
                    end = j;
                    break;
                }
            }
        }
        if (end < 0)
            break;
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(text.mid(i, end - i + 1).toUtf8(), &error);
        if (error.error == QJsonParseError::NoError) {
            docs << doc;
            i = end + 1;
        } else {
            ++i;
        }
    }
    return docs;
}

void collectCharacters(const QJsonValue& value, QVector<StoryCorpus::Character>* cast, QString* setting,
                       QStringList* descriptors)
{
    if (value.isArray()) {
        for (const QJsonValue& item : value.toArray())
            collectCharacters(item, cast, setting, descriptors);
        return;
    }
    if (!value.isObject())
        return;
    const QJsonObject object = value.toObject();
    const QString name = object.value(QStringLiteral("name")).toString().trimmed();
    const QString descriptor = object.value(QStringLiteral("visualDescriptor")).toString().trimmed();
    QStringList looks;
    for (const QJsonValue& look : object.value(QStringLiteral("looks")).toArray()) {
        const QString id = look.toObject().value(QStringLiteral("id")).toString().trimmed();
        if (!id.isEmpty() && id.size() <= 64 && !looks.contains(id))
            looks << id;
    }
    if (!name.isEmpty() && name.size() <= 60) {
        bool known = false;
        for (auto& c : *cast) {
            if (c.name != name)
                continue;
            known = true;
            for (const QString& id : looks)
                if (!c.looks.contains(id))
                    c.looks << id;
        }
        if (!known)
            cast->append({name, object.value(QStringLiteral("role")).toString(), descriptor, looks});
    }
    if (!descriptor.isEmpty() && !descriptors->contains(descriptor))
        descriptors->append(descriptor);
    if (setting->isEmpty() && object.value(QStringLiteral("setting")).isString())
        *setting = object.value(QStringLiteral("setting")).toString();
    for (auto it = object.begin(); it != object.end(); ++it)
        // Locations have names too, but nobody plays them.
        if ((it->isObject() || it->isArray()) && it.key() != QLatin1String("locations"))
            collectCharacters(*it, cast, setting, descriptors);
}

} // namespace

StoryCorpus::StoryCorpus(quint64 seed, const QString& context, double breadth)
    : m_state(seed ^ 0x9E3779B97F4A7C15ULL), m_breadth(qBound(0.05, breadth, 1.0))
{
    extractContext(context);
    buildCast();
}

quint64 StoryCorpus::hash(const QByteArray& bytes)
{
    quint64 h = 1469598103934665603ULL;
    for (const char c : bytes) {
        h ^= quint8(c);
        h *= 1099511628211ULL;
    }
    return h;
}

quint64 StoryCorpus::seedForRequest(const QJsonObject& body)
{
    const QJsonValue seed = body.value(QStringLiteral("seed"));
    if (seed.isDouble())
        return quint64(qint64(seed.toDouble()));
    const QByteArray messages =
        QJsonDocument(body.value(QStringLiteral("messages")).toArray()).toJson(QJsonDocument::Compact);
    return hash(messages);
}

QStringList StoryCorpus::themeVocabulary()
{
    return list({"action", "romance", "mystery", "dialogue", "exposition", "suspense", "comedy", "drama",
                 "horror", "wonder", "tragedy", "triumph"});
}

quint64 StoryCorpus::next()
{
    // splitmix64: tiny, and identical on every platform (std distributions are not).
    quint64 z = (m_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

int StoryCorpus::pick(int n)
{
    if (n <= 1)
        return 0;
    const int reach = qMax(1, int(std::ceil(n * m_breadth)));
    return int(next() % quint64(reach));
}

QString StoryCorpus::chooseFrom(const QStringList& l)
{
    if (l.isEmpty())
        return {};
    // A writer does not repeat the same phrase within one answer while fresh ones are left.
    QString choice = l.at(pick(int(l.size())));
    for (int attempt = 0; attempt < 6 && m_usedPhrases.contains(choice); ++attempt)
        choice = l.at(pick(int(l.size())));
    m_usedPhrases.insert(choice);
    return choice;
}

void StoryCorpus::extractContext(const QString& context)
{
    for (const QJsonDocument& doc : embeddedJson(context))
        collectCharacters(doc.isArray() ? QJsonValue(doc.array()) : QJsonValue(doc.object()), &m_cast,
                          &m_setting, &m_contextDescriptors);
    // Plain-text character lines as prompt templates often write them: "Mara Voss (protagonist): weathered
    // ...".
    static const QRegularExpression line(
        QStringLiteral("^\\s*[-*]?\\s*([A-Z][\\w'-]+(?: "
                       "[A-Z][\\w'-]+){0,3})\\s*(?:\\(([^)]{1,30})\\))?\\s*[:\u2014-]\\s+(.{8,160})$"),
        QRegularExpression::MultilineOption);
    auto it = line.globalMatch(context);
    while (it.hasNext()) {
        const auto m = it.next();
        const QString name = m.captured(1).trimmed();
        const QString descriptor = m.captured(3).trimmed();
        bool label = name.size() < 3;
        for (const QString& part : name.toLower().split(QLatin1Char(' ')))
            label = label || stopWords().contains(part) || labelWords().contains(part);
        if (label)
            continue;
        bool known = false;
        for (const auto& c : m_cast)
            known = known || c.name == name;
        if (known)
            continue;
        m_cast.append({name, m.captured(2).trimmed(), descriptor});
        if (!m_contextDescriptors.contains(descriptor))
            m_contextDescriptors << descriptor;
    }
    static const QRegularExpression word(QStringLiteral("[A-Za-z][A-Za-z'-]{3,}"));
    QSet<QString> seen;
    auto words = word.globalMatch(context);
    while (words.hasNext() && m_contextWords.size() < 48) {
        QString w = words.next().captured(0).toLower();
        while (w.endsWith(QLatin1Char('-')) || w.endsWith(QLatin1Char('\'')))
            w.chop(1);
        if (stopWords().contains(w) || seen.contains(w))
            continue;
        seen.insert(w);
        m_contextWords << w;
    }
}

void StoryCorpus::buildCast()
{
    // A cast the request supplied (the bible of a later stage) is the whole cast: no invented extras.
    const int generated = m_cast.isEmpty() ? 3 + pick(2) : int(m_cast.size());
    QSet<QString> usedFirst;
    for (const auto& c : m_cast)
        usedFirst.insert(c.name.section(QLatin1Char(' '), 0, 0));
    QStringList usedDescriptors = m_contextDescriptors;
    for (int i = 0; m_cast.size() < generated && i < 40; ++i) {
        const QString first = chooseFrom(firstNames());
        if (usedFirst.contains(first))
            continue;
        usedFirst.insert(first);
        QString descriptor = chooseFrom(descriptors());
        for (int k = 0; k < 8 && usedDescriptors.contains(descriptor); ++k)
            descriptor = descriptors().at(int(next() % quint64(descriptors().size())));
        usedDescriptors << descriptor;
        const QString role = m_cast.isEmpty() ? QStringLiteral("protagonist") : chooseFrom(roles());
        m_cast.append({first + QLatin1Char(' ') + chooseFrom(lastNames()), role, descriptor});
    }
    for (auto& c : m_cast) {
        if (c.role.isEmpty())
            c.role = chooseFrom(roles());
        if (c.visualDescriptor.isEmpty())
            c.visualDescriptor = chooseFrom(descriptors());
    }
    if (m_setting.isEmpty())
        m_setting = chooseFrom(settings());
    m_themeCursor = pick(12);
    m_locationOffset = int(next() % quint64(places().size()));
}

QJsonObject StoryCorpus::resolveRef(const QJsonObject& schema) const
{
    const QString ref = schema.value(QStringLiteral("$ref")).toString();
    if (!ref.startsWith(QLatin1String("#/")))
        return schema;
    QJsonValue node = m_root;
    for (const QString& part : ref.mid(2).split(QLatin1Char('/')))
        node = node.toObject().value(part);
    return node.isObject() ? node.toObject() : schema;
}

QJsonValue StoryCorpus::fill(const QJsonObject& schema, bool fewerItems)
{
    m_root = schema;
    m_fewerItems = fewerItems;
    m_budget = kMaxValues;
    m_charBudget = kMaxAnswerChars;
    m_objectCast.clear();
    m_containers.clear();
    m_shotCast.clear();
    for (int i = 0; i < qMin(2, int(m_cast.size())); ++i)
        m_objectCast << m_cast.at(i).name;
    return fillValue(schema, QString(), 0, 0);
}

QJsonValue StoryCorpus::fillValue(const QJsonObject& rawSchema, const QString& name, int depth, int index)
{
    const QJsonObject schema = resolveRef(rawSchema);
    // Schemas come from the network: bound recursion ($ref cycles) and the total size of the answer.
    if (depth > kMaxDepth || --m_budget < 0)
        return QJsonValue();
    if (schema.contains(QStringLiteral("const")))
        return schema.value(QStringLiteral("const"));
    const QJsonArray enumValues = schema.value(QStringLiteral("enum")).toArray();
    if (!enumValues.isEmpty()) {
        if (name.compare(QLatin1String("themes"), Qt::CaseInsensitive) == 0 ||
            name.compare(QLatin1String("theme"), Qt::CaseInsensitive) == 0)
            return enumValues.at((m_themeCursor++) % enumValues.size());
        return enumValues.at(pick(int(enumValues.size())));
    }
    for (const char* key : {"anyOf", "oneOf", "allOf"}) {
        const QJsonArray options = schema.value(QLatin1String(key)).toArray();
        for (const QJsonValue& option : options) {
            const QJsonObject o = resolveRef(option.toObject());
            if (o.value(QStringLiteral("type")).toString() != QLatin1String("null"))
                return fillValue(o, name, depth + 1, index);
        }
    }
    QString type;
    const QJsonValue typeValue = schema.value(QStringLiteral("type"));
    if (typeValue.isArray()) {
        for (const QJsonValue& t : typeValue.toArray())
            if (t.toString() != QLatin1String("null")) {
                type = t.toString();
                break;
            }
    } else {
        type = typeValue.toString();
    }
    if (type.isEmpty())
        type = schema.contains(QStringLiteral("properties")) ? QStringLiteral("object")
               : schema.contains(QStringLiteral("items"))    ? QStringLiteral("array")
                                                             : QStringLiteral("string");

    if (type == QLatin1String("object")) {
        QJsonObject out;
        const QJsonObject properties = schema.value(QStringLiteral("properties")).toObject();
        const QStringList savedCast = m_objectCast;
        if (depth > 0 && properties.contains(QStringLiteral("characters")) && !m_cast.isEmpty()) {
            // The characters present in this object (a scene): one or two of the cast, rotating with the
            // index so every character appears somewhere in a scene list.
            m_objectCast.clear();
            m_objectCast << m_cast.at(index % m_cast.size()).name;
            if (m_cast.size() > 1 && next() % 2 == 0)
                m_objectCast << m_cast.at((index + 1 + pick(int(m_cast.size()) - 1)) % m_cast.size()).name;
            m_objectCast.removeDuplicates();
        }
        const QStringList savedShotCast = m_shotCast;
        if (properties.contains(QStringLiteral("visibleCharacters"))) {
            // A shot: who is visible is decided first, so that every text of the shot names them.
            m_shotCast = shotCast(properties.value(QStringLiteral("visibleCharacters")).toObject(), index);
            m_objectCast = m_shotCast;
        }
        // Properties in schema order is what grammar-constrained decoding produces; QJsonObject sorts keys
        // anyway.
        for (auto it = properties.begin(); it != properties.end(); ++it)
            out.insert(it.key(), fillValue(it->toObject(), it.key(), depth + 1, index));
        for (const QJsonValue& required : schema.value(QStringLiteral("required")).toArray())
            if (!out.contains(required.toString()))
                out.insert(required.toString(), stringFor(required.toString(), index));
        m_objectCast = savedCast;
        m_shotCast = savedShotCast;
        return out;
    }
    if (type == QLatin1String("array"))
        return fillArray(schema, name, depth);
    if (type == QLatin1String("integer") || type == QLatin1String("number")) {
        const QString lower = name.toLower();
        double lo = schema.contains(QStringLiteral("minimum"))
                        ? schema.value(QStringLiteral("minimum")).toDouble()
                        : 0;
        double hi = schema.contains(QStringLiteral("maximum"))
                        ? schema.value(QStringLiteral("maximum")).toDouble()
                        : lo + 10;
        if (schema.contains(QStringLiteral("exclusiveMinimum")))
            lo = schema.value(QStringLiteral("exclusiveMinimum")).toDouble() +
                 (type == QLatin1String("integer") ? 1 : 0.01);
        if (schema.contains(QStringLiteral("exclusiveMaximum")))
            hi = schema.value(QStringLiteral("exclusiveMaximum")).toDouble() -
                 (type == QLatin1String("integer") ? 1 : 0.01);
        if (lower.contains(QLatin1String("frame")) && !schema.contains(QStringLiteral("minimum"))) {
            lo = 25;
            hi = 49;
        }
        if (hi < lo)
            hi = lo;
        if (lower.contains(QLatin1String("score")) && hi > lo)
            lo = lo + (hi - lo) * 0.6; // a story the sandbox wrote grades itself favourably
        if (type == QLatin1String("integer")) {
            const qint64 a = qint64(std::ceil(lo));
            const qint64 b = qint64(std::floor(hi));
            return double(a + qint64(next() % quint64(qMax<qint64>(1, b - a + 1))));
        }
        return std::round((lo + (hi - lo) * double(next() % 1000) / 999.0) * 100.0) / 100.0;
    }
    if (type == QLatin1String("boolean"))
        return next() % 2 == 0;
    if (type == QLatin1String("null"))
        return QJsonValue();
    m_depth = depth;
    return fitLength(stringFor(name, index), schema.value(QStringLiteral("minLength")).toInt(0),
                     schema.value(QStringLiteral("maxLength")).toInt(0), name);
}

QJsonValue StoryCorpus::fillArray(const QJsonObject& schema, const QString& name, int depth)
{
    const int minItems = qBound(0, schema.value(QStringLiteral("minItems")).toInt(0), kMaxItems);
    const int maxItems = schema.contains(QStringLiteral("maxItems"))
                             ? schema.value(QStringLiteral("maxItems")).toInt()
                             : qMax(minItems, 0) + 3;
    const QJsonObject items = resolveRef(schema.value(QStringLiteral("items")).toObject());
    const QString lower = name.toLower();
    int count = 0;
    if (lower == QLatin1String("characters") &&
        items.value(QStringLiteral("type")).toString() == QLatin1String("string"))
        count = int(m_objectCast.size());
    else if (lower == QLatin1String("characters"))
        count = int(m_cast.size());
    else if (lower.contains(QLatin1String("theme")))
        count = 1 + pick(2);
    else if (lower == QLatin1String("visiblecharacters"))
        count = int(m_shotCast.size());
    else if (lower == QLatin1String("looks"))
        count = 1 + containerIndex(0) % 2; // every other character changes outfit during the story
    else if (lower == QLatin1String("locations"))
        count = 2 + pick(2);
    else if (lower == QLatin1String("shots"))
        count = 2 + pick(2);
    else
        count = minItems > 0 ? minItems : 3;
    count = qBound(minItems, count, qMax(minItems, maxItems));
    if (m_fewerItems && minItems >= 1)
        count = minItems - 1;
    const bool uniqueEnum = !items.value(QStringLiteral("enum")).toArray().isEmpty();
    QJsonArray out;
    QSet<QString> seen;
    for (int i = 0; i < count; ++i) {
        QJsonValue value;
        if (lower == QLatin1String("characters") &&
            items.value(QStringLiteral("type")).toString() == QLatin1String("string") &&
            items.value(QStringLiteral("enum")).toArray().isEmpty()) {
            value = i < m_objectCast.size() ? m_objectCast.at(i) : m_cast.at(i % m_cast.size()).name;
        } else if (lower == QLatin1String("visiblecharacters") && items.contains(QStringLiteral("properties"))) {
            QJsonObject entry = fillValue(items, QString(name).append(QStringLiteral("[]")), depth + 1, i).toObject();
            const QJsonObject props = items.value(QStringLiteral("properties")).toObject();
            const QString who = m_shotCast.at(i);
            entry.insert(QStringLiteral("name"), who);
            if (props.contains(QStringLiteral("look")))
                entry.insert(QStringLiteral("look"),
                             lookFor(who, props.value(QStringLiteral("look")).toObject().value(QStringLiteral("enum")).toArray(),
                                     containerIndex(0)));
            value = entry;
        } else {
            m_containers.append({lower, i});
            value = fillValue(
                items, lower == QLatin1String("themes") ? name : QString(name).append(QStringLiteral("[]")),
                depth + 1, i);
            m_containers.removeLast();
            if (uniqueEnum) {
                // Distinct tags inside one array (a scene with "suspense, suspense" is not what a model
                // writes).
                for (int k = 0; k < 12 && seen.contains(value.toVariant().toString()); ++k)
                    value = fillValue(items, name, depth + 1, i);
            }
        }
        seen.insert(value.toVariant().toString());
        out.append(value);
    }
    return out;
}

QString StoryCorpus::storyTitle()
{
    return QStringLiteral("The %1 %2").arg(chooseFrom(titleAdjectives()), chooseFrom(titleNouns()));
}

QString StoryCorpus::sceneTitle()
{
    QString title;
    for (int k = 0; k < 10; ++k) {
        title = chooseFrom(sceneTitleNouns());
        if (!m_usedTitles.contains(title))
            break;
        title = QStringLiteral("%1 %2").arg(chooseFrom(titleAdjectives()), chooseFrom(titleNouns()));
        if (!m_usedTitles.contains(title))
            break;
    }
    m_usedTitles << title;
    return title;
}

QString StoryCorpus::sceneSummary()
{
    const QStringList present =
        m_objectCast.isEmpty() && !m_cast.isEmpty() ? QStringList{m_cast.first().name} : m_objectCast;
    QString who = present.value(0, QStringLiteral("The keeper"));
    QString text = QStringLiteral("%1 %2 %3").arg(who, chooseFrom(actions()), chooseFrom(consequences()));
    if (present.size() > 1)
        text += QStringLiteral(" %1 stands beside %2, %3.")
                    .arg(present.at(1), who.section(QLatin1Char(' '), 0, 0),
                         next() % 2 ? QStringLiteral("uncertain whom to trust")
                                    : QStringLiteral("ready to help"));
    return text;
}

QString StoryCorpus::stringFor(const QString& rawName, int index)
{
    QString name = rawName;
    if (name.endsWith(QLatin1String("[]")))
        name.chop(2);
    const QString lower = name.toLower();
    const Character& lead = m_cast.at(index % m_cast.size());
    const QString container = containerName();
    if (container == QLatin1String("looks")) {
        const Character& owner = m_cast.at(containerIndex(1) % m_cast.size());
        if (lower == QLatin1String("id"))
            return lookVariant(owner, index, false);
        const QString look = lookVariant(owner, index, true);
        if (lower.contains(QLatin1String("reference")))
            return QStringLiteral("character reference sheet, %1, %2, front, side and back view, neutral pose, plain grey "
                                  "background, even studio light")
                .arg(owner.name, look);
        if (lower.contains(QLatin1String("descriptor")))
            return look;
    }
    if (container == QLatin1String("locations")) {
        if (lower == QLatin1String("name"))
            return locationPart(index, false);
        if (lower.contains(QLatin1String("reference")))
            return QStringLiteral("environment reference, %1, %2, wide establishing view, no people, even light")
                .arg(locationPart(index, false), locationPart(index, true));
        if (lower.contains(QLatin1String("descriptor")))
            return locationPart(index, true);
    }
    if (lower.contains(QLatin1String("reference")) && lower.contains(QLatin1String("prompt")))
        return QStringLiteral("character reference sheet, %1, %2, front, side and back view, neutral pose, plain grey "
                              "background, even studio light")
            .arg(lead.name, lead.visualDescriptor);
    if (container == QLatin1String("shots")) {
        if (lower == QLatin1String("firstframe"))
            return framePrompt(index, false);
        if (lower == QLatin1String("lastframe"))
            return index % 2 == 1 ? framePrompt(index, true) : QString();
        if (lower == QLatin1String("description"))
            return shotDescription();
        if (lower == QLatin1String("motion"))
            return chooseFrom(motions());
    }
    if (lower == QLatin1String("id") || lower == QLatin1String("sceneid"))
        return QStringLiteral("scene-%1").arg(index + 1, 3, 10, QLatin1Char('0'));
    if (lower.contains(QLatin1String("negative"))) {
        QStringList extra = negatives().mid(4);
        QStringList chosen;
        for (int i = 0; i < 3 && !extra.isEmpty(); ++i)
            chosen << extra.takeAt(int(next() % quint64(extra.size())));
        return QStringLiteral("blurry, low-resolution, watermark, text, ") +
               chosen.join(QStringLiteral(", "));
    }
    if (lower.contains(QLatin1String("prompt")))
        return renderPrompt();
    if (lower.contains(QLatin1String("title")))
        return m_depth <= 1 ? storyTitle() : sceneTitle();
    if (lower == QLatin1String("logline"))
        return QStringLiteral("%1, a %2, must %3 before %4.")
            .arg(m_cast.first().name, m_cast.first().visualDescriptor, chooseFrom(goals()),
                 chooseFrom(stakes()));
    if (lower.contains(QLatin1String("vision")) || lower.contains(QLatin1String("style")))
        return QStringLiteral("%1, %2 frames; %3, graded in %4.")
            .arg(capitalised(chooseFrom(moods())),
                 next() % 2 ? QStringLiteral("wide") : QStringLiteral("intimate"), chooseFrom(lighting()),
                 chooseFrom(palettes()));
    if (lower == QLatin1String("name") || lower.endsWith(QLatin1String("name")) ||
        lower == QLatin1String("characters"))
        return lead.name;
    if (lower == QLatin1String("role") || lower.contains(QLatin1String("archetype")))
        return lead.role;
    if (lower.contains(QLatin1String("descriptor")) || lower.contains(QLatin1String("appearance")) ||
        lower.contains(QLatin1String("look")))
        return lead.visualDescriptor;
    if (lower.contains(QLatin1String("setting")) || lower.contains(QLatin1String("location")) ||
        lower.contains(QLatin1String("world")))
        return m_setting;
    if (lower.contains(QLatin1String("outline")) || lower.contains(QLatin1String("plot")) ||
        lower.contains(QLatin1String("acts")) || lower.contains(QLatin1String("arc"))) {
        const QString hero = m_cast.first().name;
        const QString other = m_cast.size() > 1 ? m_cast.at(1).name : hero;
        return QStringLiteral("Act 1: %1 %2. Act 2: %3 %4. Act 3: %1 must %5 before %6.")
            .arg(hero, chooseFrom(actions()), other, chooseFrom(actions()), chooseFrom(goals()),
                 chooseFrom(stakes()));
    }
    if (lower.contains(QLatin1String("mood")) || lower.contains(QLatin1String("tone")) ||
        lower.contains(QLatin1String("emotion")))
        return chooseFrom(moods());
    if (lower.contains(QLatin1String("camera")) || lower.contains(QLatin1String("shot")) ||
        lower.contains(QLatin1String("movement")))
        return chooseFrom(cameraMoves());
    if (lower.contains(QLatin1String("palette")) || lower.contains(QLatin1String("colo")))
        return chooseFrom(palettes());
    if (lower.contains(QLatin1String("theme")) || lower.contains(QLatin1String("tag")))
        return themeVocabulary().at((m_themeCursor++) % 12);
    if (lower.contains(QLatin1String("genre")))
        return chooseFrom(list({"sci-fi", "drama", "thriller", "mystery", "fantasy"}));
    if (lower.contains(QLatin1String("reason")) || lower.contains(QLatin1String("feedback")) ||
        lower.contains(QLatin1String("comment")))
        return chooseFrom(reasons());
    if (lower.contains(QLatin1String("caption")))
        return QStringLiteral("%1, %2, %3")
            .arg(capitalised(lead.visualDescriptor), chooseFrom(actions()), chooseFrom(lighting()));
    if (lower.contains(QLatin1String("summary")) || lower.contains(QLatin1String("description")) ||
        lower.contains(QLatin1String("beat")) || lower.contains(QLatin1String("synopsis")) ||
        lower.contains(QLatin1String("action")) || lower.contains(QLatin1String("event")))
        return sceneSummary();
    if (lower.contains(QLatin1String("dialog")) || lower.contains(QLatin1String("line")))
        return QStringLiteral("\"We only get one chance at this,\" %1 says.").arg(lead.name);
    return sceneSummary();
}

QString StoryCorpus::fitLength(QString text, int minLength, int maxLength, const QString& name)
{
    minLength = qMax(0, qMin(minLength, qMin(kMaxStringLength, m_charBudget)));
    m_charBudget -= minLength;
    while (minLength > 0 && text.size() < minLength) {
        const QString more = name.toLower().contains(QLatin1String("prompt"))
                                 ? QStringLiteral(", ") + chooseFrom(details())
                                 : QStringLiteral(" ") + sceneSummary();
        text += more;
    }
    if (maxLength > 0 && text.size() > maxLength) {
        text.truncate(maxLength);
        const int cut = text.lastIndexOf(QLatin1Char(' '));
        if (cut > maxLength / 2 && (minLength <= 0 || cut >= minLength))
            text.truncate(cut);
        while (text.endsWith(QLatin1Char(',')) || text.endsWith(QLatin1Char(' ')))
            text.chop(1);
        if (minLength > 0 && text.size() < minLength)
            text = text.leftJustified(minLength, QLatin1Char('.'));
    }
    return text;
}

QString StoryCorpus::containerName() const
{
    return m_containers.isEmpty() ? QString() : m_containers.last().first;
}

int StoryCorpus::containerIndex(int up) const
{
    const int at = int(m_containers.size()) - 1 - up;
    return at >= 0 ? m_containers.at(at).second : 0;
}

QString StoryCorpus::lookVariant(const Character& c, int lookIndex, bool descriptor) const
{
    // Look 0 is how the character usually appears; later looks add one change. Chosen from the name, so
    // the id, descriptor and reference prompt of one look (filled one after the other) agree.
    if (lookIndex == 0)
        return descriptor ? c.visualDescriptor : QStringLiteral("everyday");
    const auto& variants = lookVariants();
    const auto& v = variants.at(int((hash(c.name.toUtf8()) + quint64(lookIndex)) % quint64(variants.size())));
    return descriptor ? c.visualDescriptor + QStringLiteral(", ") + v.second : v.first;
}

QString StoryCorpus::locationPart(int index, bool descriptor) const
{
    const auto& p = places().at((m_locationOffset + index) % int(places().size()));
    return descriptor ? p.second : p.first;
}

QStringList StoryCorpus::shotCast(const QJsonObject& visibleSchema, int index)
{
    const QJsonObject items = resolveRef(visibleSchema.value(QStringLiteral("items")).toObject());
    const QJsonArray allowed =
        items.value(QStringLiteral("properties")).toObject().value(QStringLiteral("name")).toObject().value(QStringLiteral("enum")).toArray();
    const int maxItems = visibleSchema.contains(QStringLiteral("maxItems"))
                             ? visibleSchema.value(QStringLiteral("maxItems")).toInt()
                             : int(allowed.size());
    QStringList names;
    for (const QJsonValue& n : allowed)
        names << n.toString();
    if (names.isEmpty() && maxItems > 0)
        for (const auto& c : m_cast)
            names << c.name;
    const int n = qMin(int(names.size()), qMax(0, maxItems));
    if (n == 0)
        return {};
    // Shots alternate between the whole scene cast and one character in close-up.
    const int count = index % 2 == 0 ? qMin(n, 2) : 1;
    QStringList out;
    for (int k = 0; k < count; ++k)
        out << names.at((index / 2 + k) % int(names.size()));
    out.removeDuplicates();
    return out;
}

QString StoryCorpus::lookFor(const QString& name, const QJsonArray& lookEnum, int shotIndex) const
{
    QStringList allowed;
    for (const QJsonValue& v : lookEnum)
        allowed << v.toString();
    QStringList own;
    for (const auto& c : m_cast)
        if (c.name == name)
            own = c.looks;
    QStringList candidates;
    for (const QString& id : own)
        if (allowed.isEmpty() || allowed.contains(id))
            candidates << id;
    if (candidates.isEmpty())
        candidates << (allowed.isEmpty() || allowed.contains(QStringLiteral("default")) ? QStringLiteral("default")
                                                                                      : allowed.first());
    // Later shots of a scene may show a character's next look (the storm arrives, the coat goes on).
    return candidates.at((shotIndex / 2) % int(candidates.size()));
}

QString StoryCorpus::framePrompt(int shotIndex, bool last)
{
    QString who;
    if (m_shotCast.isEmpty())
        who = QStringLiteral("an empty, silent scene");
    else if (m_shotCast.size() == 1)
        who = m_shotCast.first() + QLatin1Char(' ') + chooseFrom(actions());
    else
        who = QStringLiteral("%1 %2, %3 close behind").arg(m_shotCast.first(), chooseFrom(actions()), m_shotCast.at(1));
    QString setting = m_setting;
    if (setting.endsWith(QLatin1Char('.')))
        setting.chop(1);
    const QString size = last ? QStringLiteral("the same framing moments later") : chooseFrom(shots());
    return QStringLiteral("%1, %2, %3, %4, %5")
        .arg(size, who, chooseFrom(lighting()), chooseFrom(details()),
             shotIndex % 2 ? QStringLiteral("shallow depth of field") : QStringLiteral("deep focus"));
}

QString StoryCorpus::shotDescription()
{
    if (m_shotCast.isEmpty())
        return QStringLiteral("The camera holds on the place itself while %1.").arg(chooseFrom(motions()));
    return sceneSummary();
}

QString StoryCorpus::renderPrompt()
{
    // Target by the chars/4 token estimate: 270..420 tokens, safely inside the 150..500 KPI window.
    const int targetChars = 1080 + int(next() % 600);
    QStringList parts;
    const QStringList present = m_objectCast.isEmpty() ? QStringList{m_cast.first().name} : m_objectCast;
    const Character* lead = &m_cast.first();
    for (const auto& c : m_cast)
        if (c.name == present.first())
            lead = &c;
    parts << QStringLiteral("%1 of %2").arg(chooseFrom(shots()), lead->visualDescriptor);
    parts << lead->name.section(QLatin1Char(' '), 0, 0) + QLatin1Char(' ') + chooseFrom(actions());
    // Every descriptor the request injected comes back, so the render prompt carries the bible's looks.
    for (const QString& d : m_contextDescriptors)
        if (d != lead->visualDescriptor)
            parts << d;
    for (const auto& c : m_cast)
        if (c.name != lead->name && present.contains(c.name) &&
            !m_contextDescriptors.contains(c.visualDescriptor))
            parts << c.visualDescriptor;
    QString setting = m_setting;
    if (setting.endsWith(QLatin1Char('.')))
        setting.chop(1);
    parts << QStringLiteral("set in %1").arg(setting.left(1).toLower() + setting.mid(1));
    parts << chooseFrom(lighting()) << QStringLiteral("%1 color palette").arg(chooseFrom(palettes()))
          << chooseFrom(cameraMoves()) << QStringLiteral("%1 mood").arg(chooseFrom(moods()));
    // Words of the request (the scene's summary, the director's notes) that the parts above do not carry yet.
    QStringList echoed;
    const QString sofar = parts.join(QStringLiteral(", ")).toLower();
    for (const QString& w : m_contextWords) {
        if (echoed.size() >= 6)
            break;
        if (w.size() >= 5 && !sofar.contains(w))
            echoed << w;
    }
    if (!echoed.isEmpty())
        parts << QStringLiteral("evoking ") + echoed.join(QStringLiteral(", "));
    QStringList detailPool = details();
    QStringList stylePool = styleTags();
    int guard = 0;
    while (parts.join(QStringLiteral(", ")).size() < targetChars && guard++ < 80) {
        QStringList& pool = (guard % 3 == 0) ? stylePool : detailPool;
        if (pool.isEmpty()) {
            parts << chooseFrom(lighting());
            continue;
        }
        parts << pool.takeAt(int(next() % quint64(pool.size())));
    }
    QString text = parts.join(QStringLiteral(", "));
    if (text.size() > 1900) // ≤ 475 tokens by the chars/4 estimate even with long injected descriptors
        text = fitLength(text, 0, 1900, QStringLiteral("prompt"));
    return text;
}

QString StoryCorpus::paragraph()
{
    const Character& hero = m_cast.first();
    const Character& other = m_cast.size() > 1 ? m_cast.at(1) : m_cast.first();
    QString setting = m_setting;
    if (setting.endsWith(QLatin1Char('.')))
        setting.chop(1);
    QStringList sentences;
    sentences
        << QStringLiteral("%1 begins in %2.").arg(storyTitle(), setting.left(1).toLower() + setting.mid(1));
    sentences << QStringLiteral("%1, a %2, %3 %4")
                     .arg(hero.name, hero.visualDescriptor, chooseFrom(actions()),
                          chooseFrom(consequences()));
    sentences
        << QStringLiteral("%1 %2 %3").arg(other.name, chooseFrom(actions()), chooseFrom(consequences()));
    sentences
        << QStringLiteral("Together they must %1 before %2.").arg(chooseFrom(goals()), chooseFrom(stakes()));
    if (next() % 2)
        sentences << QStringLiteral("The mood is %1, the light %2.")
                         .arg(chooseFrom(moods()), chooseFrom(lighting()));
    return sentences.join(QLatin1Char(' '));
}

} // namespace gd::sandbox
