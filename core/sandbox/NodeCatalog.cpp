#include "sandbox/NodeCatalog.h"

#include <QJsonValue>
#include <algorithm>

namespace gd::sandbox {

namespace {

// Values mirror ComfyUI 0.3.64 (nodes.py, comfy_extras/*, VideoHelperSuite) so a client that reads
// /object_info of the sandbox sees the same shapes as against a real server.
constexpr qint64 kMaxResolution = 16384;
// 0xffffffffffffffff as published by KSampler; it does not fit qint64, so it is stored as the double the JSON
// parser of any client would produce anyway (comfyui-api.md §1).
const double kSeedMax = 18446744073709551615.0;

QJsonArray typeOnly(const QString& type, const QJsonObject& opts = {})
{
    QJsonArray spec{type};
    if (!opts.isEmpty())
        spec.append(opts);
    return spec;
}

NodeInputSpec link(const QString& name, const QString& type, bool required = true,
                   const QJsonObject& opts = {})
{
    return NodeInputSpec{name, typeOnly(type, opts), required};
}

NodeInputSpec intInput(const QString& name, qint64 def, qint64 min, qint64 max, qint64 step = 1,
                       bool required = true, QJsonObject extra = {})
{
    extra.insert(QStringLiteral("default"), def);
    extra.insert(QStringLiteral("min"), min);
    extra.insert(QStringLiteral("max"), max);
    extra.insert(QStringLiteral("step"), step);
    return NodeInputSpec{name, typeOnly(QStringLiteral("INT"), extra), required};
}

NodeInputSpec floatInput(const QString& name, double def, double min, double max, double step,
                         bool required = true, QJsonObject extra = {})
{
    extra.insert(QStringLiteral("default"), def);
    extra.insert(QStringLiteral("min"), min);
    extra.insert(QStringLiteral("max"), max);
    extra.insert(QStringLiteral("step"), step);
    return NodeInputSpec{name, typeOnly(QStringLiteral("FLOAT"), extra), required};
}

NodeInputSpec stringInput(const QString& name, const QString& def, bool multiline, bool required = true,
                          QJsonObject extra = {})
{
    extra.insert(QStringLiteral("default"), def);
    if (multiline)
        extra.insert(QStringLiteral("multiline"), true);
    return NodeInputSpec{name, typeOnly(QStringLiteral("STRING"), extra), required};
}

NodeInputSpec boolInput(const QString& name, bool def, bool required = true)
{
    return NodeInputSpec{
        name, typeOnly(QStringLiteral("BOOLEAN"), QJsonObject{{QStringLiteral("default"), def}}), required};
}

// V1 combo: the allowed values are the type itself.
NodeInputSpec combo(const QString& name, const QStringList& options, QJsonObject opts = {},
                    bool required = true)
{
    if (!opts.contains(QStringLiteral("default")) && !options.isEmpty())
        opts.insert(QStringLiteral("default"), options.first());
    return NodeInputSpec{name, QJsonArray{QJsonArray::fromStringList(options), opts}, required};
}

// V3 combo (comfy_api.latest.io.Combo): ["COMBO", {"options": [...], "multiselect": false, "default": ...}].
NodeInputSpec comboV3(const QString& name, const QStringList& options, const QString& def,
                      QJsonObject opts = {})
{
    opts.insert(QStringLiteral("options"), QJsonArray::fromStringList(options));
    opts.insert(QStringLiteral("multiselect"), false);
    opts.insert(QStringLiteral("default"), def);
    return NodeInputSpec{name, typeOnly(QStringLiteral("COMBO"), opts), true};
}

// A model-file combo: the real server lists files of a model folder. The sandbox has no model folder, so the
// list is the names the bundled graphs use and anyValue tells validation to accept every string (see
// NodeInputSpec).
NodeInputSpec modelCombo(const QString& name, const QStringList& files, bool required = true)
{
    NodeInputSpec spec = combo(name, files, {}, required);
    spec.spec[1] = QJsonObject{};
    spec.anyValue = true;
    return spec;
}

NodeInputSpec withTooltip(NodeInputSpec spec, const QString& tooltip)
{
    QJsonObject opts = spec.spec.size() > 1 ? spec.spec.at(1).toObject() : QJsonObject{};
    opts.insert(QStringLiteral("tooltip"), tooltip);
    if (spec.spec.size() > 1)
        spec.spec[1] = opts;
    else
        spec.spec.append(opts);
    return spec;
}

QJsonObject hiddenPromptInfo()
{
    return QJsonObject{{QStringLiteral("prompt"), QStringLiteral("PROMPT")},
                       {QStringLiteral("extra_pnginfo"), QStringLiteral("EXTRA_PNGINFO")}};
}

const QStringList& samplerNames()
{
    static const QStringList names{QStringLiteral("euler"),
                                   QStringLiteral("euler_cfg_pp"),
                                   QStringLiteral("euler_ancestral"),
                                   QStringLiteral("euler_ancestral_cfg_pp"),
                                   QStringLiteral("heun"),
                                   QStringLiteral("heunpp2"),
                                   QStringLiteral("dpm_2"),
                                   QStringLiteral("dpm_2_ancestral"),
                                   QStringLiteral("lms"),
                                   QStringLiteral("dpm_fast"),
                                   QStringLiteral("dpm_adaptive"),
                                   QStringLiteral("dpmpp_2s_ancestral"),
                                   QStringLiteral("dpmpp_2s_ancestral_cfg_pp"),
                                   QStringLiteral("dpmpp_sde"),
                                   QStringLiteral("dpmpp_sde_gpu"),
                                   QStringLiteral("dpmpp_2m"),
                                   QStringLiteral("dpmpp_2m_cfg_pp"),
                                   QStringLiteral("dpmpp_2m_sde"),
                                   QStringLiteral("dpmpp_2m_sde_gpu"),
                                   QStringLiteral("dpmpp_2m_sde_heun"),
                                   QStringLiteral("dpmpp_2m_sde_heun_gpu"),
                                   QStringLiteral("dpmpp_3m_sde"),
                                   QStringLiteral("dpmpp_3m_sde_gpu"),
                                   QStringLiteral("ddpm"),
                                   QStringLiteral("lcm"),
                                   QStringLiteral("ipndm"),
                                   QStringLiteral("ipndm_v"),
                                   QStringLiteral("deis"),
                                   QStringLiteral("res_multistep"),
                                   QStringLiteral("res_multistep_cfg_pp"),
                                   QStringLiteral("res_multistep_ancestral"),
                                   QStringLiteral("res_multistep_ancestral_cfg_pp"),
                                   QStringLiteral("gradient_estimation"),
                                   QStringLiteral("gradient_estimation_cfg_pp"),
                                   QStringLiteral("er_sde"),
                                   QStringLiteral("seeds_2"),
                                   QStringLiteral("seeds_3"),
                                   QStringLiteral("sa_solver"),
                                   QStringLiteral("sa_solver_pece"),
                                   QStringLiteral("ddim"),
                                   QStringLiteral("uni_pc"),
                                   QStringLiteral("uni_pc_bh2")};
    return names;
}

const QStringList& schedulerNames()
{
    static const QStringList names{
        QStringLiteral("simple"),      QStringLiteral("sgm_uniform"),      QStringLiteral("karras"),
        QStringLiteral("exponential"), QStringLiteral("ddim_uniform"),     QStringLiteral("beta"),
        QStringLiteral("normal"),      QStringLiteral("linear_quadratic"), QStringLiteral("kl_optimal")};
    return names;
}

// Model names used by the bundled workflow graphs (tests/data/workflows, resources/workflows). Windows-style
// subfolder separators are kept verbatim: that is what those graphs send.
const QStringList& checkpointFiles()
{
    static const QStringList files{QStringLiteral("sandbox_sd15.safetensors"),
                                   QStringLiteral("NetaYumev35_pretrained_all_in_one.safetensors"),
                                   QStringLiteral("SVD\\svd_xt.safetensors"),
                                   QStringLiteral("svd_xt.safetensors"),
                                   QStringLiteral("sd_xl_base_1.0.safetensors")};
    return files;
}

const QStringList& diffusionModelFiles()
{
    static const QStringList files{QStringLiteral("flux1-krea-dev_fp8_scaled.safetensors"),
                                   QStringLiteral("wan2.2_ti2v_5B_fp16.safetensors"),
                                   QStringLiteral("wan2.2_fun_inpaint_5B_bf16.safetensors"),
                                   QStringLiteral("wan2.2_fun_control_5B_bf16.safetensors"),
                                   QStringLiteral("wan2.2_i2v_high_noise_14B_fp8_scaled.safetensors"),
                                   QStringLiteral("wan2.2_i2v_low_noise_14B_fp8_scaled.safetensors")};
    return files;
}

const QStringList& vaeFiles()
{
    static const QStringList files{QStringLiteral("ae.safetensors"), QStringLiteral("wan2.2_vae.safetensors"),
                                   QStringLiteral("wan_2.1_vae.safetensors")};
    return files;
}

const QStringList& textEncoderFiles()
{
    static const QStringList files{QStringLiteral("umt5_xxl_fp8_e4m3fn_scaled.safetensors"),
                                   QStringLiteral("t5\\t5xxl_fp8_e4m3fn_scaled.safetensors"),
                                   QStringLiteral("clip_l.safetensors")};
    return files;
}

const QStringList& inputImageFiles()
{
    static const QStringList files{QStringLiteral("example.png"),
                                   QStringLiteral("video_wan2_2_5B_fun_inpaint_start_image.png"),
                                   QStringLiteral("video_wan2_2_5B_fun_inpaint_end_image.png")};
    return files;
}

NodeClassSpec make(const QString& cls, const QString& display, const QString& category, const QString& module,
                   QStringList outputs, QVector<NodeInputSpec> inputs, QStringList outputNames = {})
{
    NodeClassSpec spec;
    spec.className = cls;
    spec.displayName = display;
    spec.category = category;
    spec.pythonModule = module;
    spec.outputTypes = std::move(outputs);
    spec.inputs = std::move(inputs);
    spec.outputNames = std::move(outputNames);
    return spec;
}

} // namespace

QString NodeInputSpec::typeName() const
{
    if (spec.isEmpty())
        return {};
    const QJsonValue first = spec.at(0);
    if (first.isArray())
        return QStringLiteral("COMBO");
    return first.toString();
}

bool NodeInputSpec::isCombo() const
{
    return typeName() == QLatin1String("COMBO");
}

QStringList NodeInputSpec::comboOptions() const
{
    if (spec.isEmpty())
        return {};
    QJsonArray values;
    if (spec.at(0).isArray())
        values = spec.at(0).toArray();
    else if (spec.at(0).toString() == QLatin1String("COMBO"))
        values = options().value(QStringLiteral("options")).toArray();
    QStringList out;
    out.reserve(values.size());
    for (const QJsonValue& v : values)
        out.append(v.isString() ? v.toString() : v.toVariant().toString());
    return out;
}

QJsonObject NodeInputSpec::options() const
{
    return spec.size() > 1 ? spec.at(1).toObject() : QJsonObject{};
}

const NodeInputSpec* NodeClassSpec::input(const QString& name) const
{
    for (const NodeInputSpec& in : inputs) {
        if (in.name == name)
            return &in;
    }
    return nullptr;
}

NodeCatalog NodeCatalog::builtin()
{
    NodeCatalog cat;
    const QString nodes = QStringLiteral("nodes");
    const QString t = QStringLiteral("MODEL"), clip = QStringLiteral("CLIP"), vae = QStringLiteral("VAE"),
                  cond = QStringLiteral("CONDITIONING"), latent = QStringLiteral("LATENT"),
                  image = QStringLiteral("IMAGE");

    cat.add(make(QStringLiteral("CheckpointLoaderSimple"), QStringLiteral("Load Checkpoint"),
                 QStringLiteral("loaders"), nodes, {t, clip, vae},
                 {withTooltip(modelCombo(QStringLiteral("ckpt_name"), checkpointFiles()),
                              QStringLiteral("The name of the checkpoint (model) to load."))}));

    cat.add(make(QStringLiteral("ImageOnlyCheckpointLoader"),
                 QStringLiteral("Image Only Checkpoint Loader (img2vid model)"),
                 QStringLiteral("loaders/video_models"), QStringLiteral("comfy_extras.nodes_video_model"),
                 {t, QStringLiteral("CLIP_VISION"), vae},
                 {modelCombo(QStringLiteral("ckpt_name"), checkpointFiles())}));

    cat.add(make(QStringLiteral("CLIPTextEncode"), QStringLiteral("CLIP Text Encode (Prompt)"),
                 QStringLiteral("conditioning"), nodes, {cond},
                 {stringInput(QStringLiteral("text"), QString(), true, true,
                              QJsonObject{{QStringLiteral("dynamicPrompts"), true}}),
                  link(QStringLiteral("clip"), clip)}));

    cat.add(make(QStringLiteral("EmptyLatentImage"), QStringLiteral("Empty Latent Image"),
                 QStringLiteral("latent"), nodes, {latent},
                 {intInput(QStringLiteral("width"), 512, 16, kMaxResolution, 8),
                  intInput(QStringLiteral("height"), 512, 16, kMaxResolution, 8),
                  intInput(QStringLiteral("batch_size"), 1, 1, 4096)}));

    cat.add(make(QStringLiteral("EmptySD3LatentImage"), QStringLiteral("EmptySD3LatentImage"),
                 QStringLiteral("latent/sd3"), QStringLiteral("comfy_extras.nodes_sd3"), {latent},
                 {intInput(QStringLiteral("width"), 1024, 16, kMaxResolution, 16),
                  intInput(QStringLiteral("height"), 1024, 16, kMaxResolution, 16),
                  intInput(QStringLiteral("batch_size"), 1, 1, 4096)}));

    {
        NodeClassSpec spec =
            make(QStringLiteral("EmptyHunyuanLatentVideo"), QStringLiteral("EmptyHunyuanLatentVideo"),
                 QStringLiteral("latent/video"), QStringLiteral("comfy_extras.nodes_hunyuan"), {latent},
                 {intInput(QStringLiteral("width"), 848, 16, kMaxResolution, 16),
                  intInput(QStringLiteral("height"), 480, 16, kMaxResolution, 16),
                  intInput(QStringLiteral("length"), 25, 1, kMaxResolution, 4),
                  intInput(QStringLiteral("batch_size"), 1, 1, 4096)});
        spec.v3 = true;
        cat.add(spec);
    }

    {
        NodeClassSpec spec = make(
            QStringLiteral("KSampler"), QStringLiteral("KSampler"), QStringLiteral("sampling"), nodes,
            {latent},
            {link(QStringLiteral("model"), t),
             NodeInputSpec{QStringLiteral("seed"),
                           typeOnly(QStringLiteral("INT"),
                                    QJsonObject{{QStringLiteral("default"), 0},
                                                {QStringLiteral("min"), 0},
                                                {QStringLiteral("max"), kSeedMax},
                                                {QStringLiteral("control_after_generate"), true}}),
                           true},
             intInput(QStringLiteral("steps"), 20, 1, 10000),
             floatInput(QStringLiteral("cfg"), 8.0, 0.0, 100.0, 0.1, true,
                        QJsonObject{{QStringLiteral("round"), 0.01}}),
             combo(QStringLiteral("sampler_name"), samplerNames()),
             combo(QStringLiteral("scheduler"), schedulerNames()), link(QStringLiteral("positive"), cond),
             link(QStringLiteral("negative"), cond), link(QStringLiteral("latent_image"), latent),
             floatInput(QStringLiteral("denoise"), 1.0, 0.0, 1.0, 0.01)});
        spec.description = QStringLiteral(
            "Uses the provided model, positive and negative conditioning to denoise the latent image.");
        cat.add(spec);
    }

    cat.add(make(QStringLiteral("VAEDecode"), QStringLiteral("VAE Decode"), QStringLiteral("latent"), nodes,
                 {image}, {link(QStringLiteral("samples"), latent), link(QStringLiteral("vae"), vae)}));

    // Storyboard graphs (resources/workflows sandbox-*, wan22-flf2v): reference images enter through
    // VAEEncode + ReferenceLatent, bookend clips through WanFirstLastFrameToVideo, WAN 2.2 14B through
    // KSamplerAdvanced.
    cat.add(make(QStringLiteral("VAEEncode"), QStringLiteral("VAE Encode"), QStringLiteral("latent"), nodes,
                 {latent}, {link(QStringLiteral("pixels"), image), link(QStringLiteral("vae"), vae)}));

    {
        NodeClassSpec spec =
            make(QStringLiteral("ReferenceLatent"), QStringLiteral("ReferenceLatent"),
                 QStringLiteral("advanced/conditioning/edit_models"),
                 QStringLiteral("comfy_extras.nodes_edit_model"), {cond},
                 {link(QStringLiteral("conditioning"), cond), link(QStringLiteral("latent"), latent, false)});
        spec.v3 = true;
        spec.description =
            QStringLiteral("This node sets the guiding latent for an edit model. If the model supports it "
                           "you can chain multiple to set multiple reference images.");
        cat.add(spec);
    }

    {
        NodeClassSpec spec = make(
            QStringLiteral("KSamplerAdvanced"), QStringLiteral("KSampler (Advanced)"),
            QStringLiteral("sampling"), nodes, {latent},
            {link(QStringLiteral("model"), t),
             combo(QStringLiteral("add_noise"), {QStringLiteral("enable"), QStringLiteral("disable")}),
             NodeInputSpec{QStringLiteral("noise_seed"),
                           typeOnly(QStringLiteral("INT"),
                                    QJsonObject{{QStringLiteral("default"), 0},
                                                {QStringLiteral("min"), 0},
                                                {QStringLiteral("max"), kSeedMax},
                                                {QStringLiteral("control_after_generate"), true}}),
                           true},
             intInput(QStringLiteral("steps"), 20, 1, 10000),
             floatInput(QStringLiteral("cfg"), 8.0, 0.0, 100.0, 0.1, true,
                        QJsonObject{{QStringLiteral("round"), 0.01}}),
             combo(QStringLiteral("sampler_name"), samplerNames()),
             combo(QStringLiteral("scheduler"), schedulerNames()), link(QStringLiteral("positive"), cond),
             link(QStringLiteral("negative"), cond), link(QStringLiteral("latent_image"), latent),
             intInput(QStringLiteral("start_at_step"), 0, 0, 10000),
             intInput(QStringLiteral("end_at_step"), 10000, 0, 10000),
             combo(QStringLiteral("return_with_leftover_noise"),
                   {QStringLiteral("disable"), QStringLiteral("enable")})});
        cat.add(spec);
    }

    {
        NodeClassSpec spec = make(
            QStringLiteral("WanFirstLastFrameToVideo"), QStringLiteral("WanFirstLastFrameToVideo"),
            QStringLiteral("conditioning/video_models"), QStringLiteral("comfy_extras.nodes_wan"),
            {cond, cond, latent},
            {link(QStringLiteral("positive"), cond), link(QStringLiteral("negative"), cond),
             link(QStringLiteral("vae"), vae), intInput(QStringLiteral("width"), 832, 16, kMaxResolution, 16),
             intInput(QStringLiteral("height"), 480, 16, kMaxResolution, 16),
             intInput(QStringLiteral("length"), 81, 1, kMaxResolution, 4),
             intInput(QStringLiteral("batch_size"), 1, 1, 4096),
             link(QStringLiteral("clip_vision_start_image"), QStringLiteral("CLIP_VISION_OUTPUT"), false),
             link(QStringLiteral("clip_vision_end_image"), QStringLiteral("CLIP_VISION_OUTPUT"), false),
             link(QStringLiteral("start_image"), image, false),
             link(QStringLiteral("end_image"), image, false)},
            {QStringLiteral("positive"), QStringLiteral("negative"), QStringLiteral("latent")});
        spec.v3 = true;
        cat.add(spec);
    }

    {
        NodeClassSpec spec = make(
            QStringLiteral("WanImageToVideo"), QStringLiteral("WanImageToVideo"),
            QStringLiteral("conditioning/video_models"), QStringLiteral("comfy_extras.nodes_wan"),
            {cond, cond, latent},
            {link(QStringLiteral("positive"), cond), link(QStringLiteral("negative"), cond),
             link(QStringLiteral("vae"), vae), intInput(QStringLiteral("width"), 832, 16, kMaxResolution, 16),
             intInput(QStringLiteral("height"), 480, 16, kMaxResolution, 16),
             intInput(QStringLiteral("length"), 81, 1, kMaxResolution, 4),
             intInput(QStringLiteral("batch_size"), 1, 1, 4096),
             link(QStringLiteral("clip_vision_output"), QStringLiteral("CLIP_VISION_OUTPUT"), false),
             link(QStringLiteral("start_image"), image, false)},
            {QStringLiteral("positive"), QStringLiteral("negative"), QStringLiteral("latent")});
        spec.v3 = true;
        cat.add(spec);
    }

    cat.add(make(QStringLiteral("VAELoader"), QStringLiteral("Load VAE"), QStringLiteral("loaders"), nodes,
                 {vae}, {modelCombo(QStringLiteral("vae_name"), vaeFiles())}));

    cat.add(make(QStringLiteral("UNETLoader"), QStringLiteral("Load Diffusion Model"),
                 QStringLiteral("advanced/loaders"), nodes, {t},
                 {modelCombo(QStringLiteral("unet_name"), diffusionModelFiles()),
                  combo(QStringLiteral("weight_dtype"),
                        {QStringLiteral("default"), QStringLiteral("fp8_e4m3fn"),
                         QStringLiteral("fp8_e4m3fn_fast"), QStringLiteral("fp8_e5m2")})}));

    const QStringList clipTypes{QStringLiteral("stable_diffusion"),
                                QStringLiteral("stable_cascade"),
                                QStringLiteral("sd3"),
                                QStringLiteral("stable_audio"),
                                QStringLiteral("mochi"),
                                QStringLiteral("ltxv"),
                                QStringLiteral("pixart"),
                                QStringLiteral("cosmos"),
                                QStringLiteral("lumina2"),
                                QStringLiteral("wan"),
                                QStringLiteral("hidream"),
                                QStringLiteral("chroma"),
                                QStringLiteral("ace"),
                                QStringLiteral("omnigen2"),
                                QStringLiteral("qwen_image"),
                                QStringLiteral("hunyuan_image")};
    const NodeInputSpec device =
        combo(QStringLiteral("device"), {QStringLiteral("default"), QStringLiteral("cpu")},
              QJsonObject{{QStringLiteral("advanced"), true}}, false);
    cat.add(make(QStringLiteral("CLIPLoader"), QStringLiteral("Load CLIP"),
                 QStringLiteral("advanced/loaders"), nodes, {clip},
                 {modelCombo(QStringLiteral("clip_name"), textEncoderFiles()),
                  combo(QStringLiteral("type"), clipTypes), device}));

    cat.add(make(QStringLiteral("DualCLIPLoader"), QStringLiteral("DualCLIPLoader"),
                 QStringLiteral("advanced/loaders"), nodes, {clip},
                 {modelCombo(QStringLiteral("clip_name1"), textEncoderFiles()),
                  modelCombo(QStringLiteral("clip_name2"), textEncoderFiles()),
                  combo(QStringLiteral("type"), {QStringLiteral("sdxl"), QStringLiteral("sd3"),
                                                 QStringLiteral("flux"), QStringLiteral("hunyuan_video"),
                                                 QStringLiteral("hidream"), QStringLiteral("hunyuan_image")}),
                  device}));

    cat.add(
        make(QStringLiteral("ModelSamplingSD3"), QStringLiteral("ModelSamplingSD3"),
             QStringLiteral("advanced/model"), QStringLiteral("comfy_extras.nodes_model_advanced"), {t},
             {link(QStringLiteral("model"), t), floatInput(QStringLiteral("shift"), 3.0, 0.0, 100.0, 0.01)}));

    cat.add(make(
        QStringLiteral("ModelSamplingAuraFlow"), QStringLiteral("ModelSamplingAuraFlow"),
        QStringLiteral("advanced/model"), QStringLiteral("comfy_extras.nodes_model_advanced"), {t},
        {link(QStringLiteral("model"), t), floatInput(QStringLiteral("shift"), 1.73, 0.0, 100.0, 0.01)}));

    cat.add(make(
        QStringLiteral("VideoLinearCFGGuidance"), QStringLiteral("VideoLinearCFGGuidance"),
        QStringLiteral("sampling/video_models"), QStringLiteral("comfy_extras.nodes_video_model"), {t},
        {link(QStringLiteral("model"), t), floatInput(QStringLiteral("min_cfg"), 1.0, 0.0, 100.0, 0.5, true,
                                                      QJsonObject{{QStringLiteral("round"), 0.01}})}));

    cat.add(make(QStringLiteral("SVD_img2vid_Conditioning"), QStringLiteral("SVD_img2vid_Conditioning"),
                 QStringLiteral("conditioning/video_models"),
                 QStringLiteral("comfy_extras.nodes_video_model"), {cond, cond, latent},
                 {link(QStringLiteral("clip_vision"), QStringLiteral("CLIP_VISION")),
                  link(QStringLiteral("init_image"), image), link(QStringLiteral("vae"), vae),
                  intInput(QStringLiteral("width"), 1024, 16, kMaxResolution, 8),
                  intInput(QStringLiteral("height"), 576, 16, kMaxResolution, 8),
                  intInput(QStringLiteral("video_frames"), 14, 1, 4096),
                  intInput(QStringLiteral("motion_bucket_id"), 127, 1, 1023),
                  intInput(QStringLiteral("fps"), 6, 1, 1024),
                  floatInput(QStringLiteral("augmentation_level"), 0.0, 0.0, 10.0, 0.01)},
                 {QStringLiteral("positive"), QStringLiteral("negative"), QStringLiteral("latent")}));

    {
        NodeClassSpec spec =
            make(QStringLiteral("Wan22ImageToVideoLatent"), QStringLiteral("Wan22ImageToVideoLatent"),
                 QStringLiteral("conditioning/inpaint"), QStringLiteral("comfy_extras.nodes_wan"), {latent},
                 {link(QStringLiteral("vae"), vae),
                  intInput(QStringLiteral("width"), 1280, 32, kMaxResolution, 32),
                  intInput(QStringLiteral("height"), 704, 32, kMaxResolution, 32),
                  intInput(QStringLiteral("length"), 49, 1, kMaxResolution, 4),
                  intInput(QStringLiteral("batch_size"), 1, 1, 4096),
                  link(QStringLiteral("start_image"), image, false)});
        spec.v3 = true;
        cat.add(spec);
    }

    {
        NodeClassSpec spec = make(
            QStringLiteral("WanFunInpaintToVideo"), QStringLiteral("WanFunInpaintToVideo"),
            QStringLiteral("conditioning/video_models"), QStringLiteral("comfy_extras.nodes_wan"),
            {cond, cond, latent},
            {link(QStringLiteral("positive"), cond), link(QStringLiteral("negative"), cond),
             link(QStringLiteral("vae"), vae), intInput(QStringLiteral("width"), 832, 16, kMaxResolution, 16),
             intInput(QStringLiteral("height"), 480, 16, kMaxResolution, 16),
             intInput(QStringLiteral("length"), 81, 1, kMaxResolution, 4),
             intInput(QStringLiteral("batch_size"), 1, 1, 4096),
             link(QStringLiteral("clip_vision_output"), QStringLiteral("CLIP_VISION_OUTPUT"), false),
             link(QStringLiteral("start_image"), image, false),
             link(QStringLiteral("end_image"), image, false)},
            {QStringLiteral("positive"), QStringLiteral("negative"), QStringLiteral("latent")});
        spec.v3 = true;
        cat.add(spec);
    }

    {
        // The real LoadImage lists the input folder and its VALIDATE_INPUTS skips the list check (it only
        // checks the file exists), so any value passes the catalog; the server checks the file.
        NodeInputSpec img = combo(QStringLiteral("image"), inputImageFiles(),
                                  QJsonObject{{QStringLiteral("image_upload"), true}});
        img.anyValue = true;
        cat.add(make(QStringLiteral("LoadImage"), QStringLiteral("Load Image"), QStringLiteral("image"),
                     nodes, {image, QStringLiteral("MASK")}, {img}));
    }

    cat.add(make(QStringLiteral("EmptyImage"), QStringLiteral("EmptyImage"), QStringLiteral("image"), nodes,
                 {image},
                 {intInput(QStringLiteral("width"), 512, 1, kMaxResolution),
                  intInput(QStringLiteral("height"), 512, 1, kMaxResolution),
                  intInput(QStringLiteral("batch_size"), 1, 1, 4096),
                  intInput(QStringLiteral("color"), 0, 0, 0xFFFFFF, 1, true,
                           QJsonObject{{QStringLiteral("display"), QStringLiteral("color")}})}));

    {
        NodeClassSpec spec = make(
            QStringLiteral("SaveImage"), QStringLiteral("Save Image"), QStringLiteral("image"), nodes, {},
            {link(QStringLiteral("images"), image),
             stringInput(QStringLiteral("filename_prefix"), QStringLiteral("ComfyUI"), false)});
        spec.outputNode = true;
        spec.hidden = hiddenPromptInfo();
        spec.description = QStringLiteral("Saves the input images to your ComfyUI output directory.");
        cat.add(spec);
    }

    {
        NodeClassSpec spec =
            make(QStringLiteral("PreviewImage"), QStringLiteral("Preview Image"), QStringLiteral("image"),
                 nodes, {}, {link(QStringLiteral("images"), image)});
        spec.outputNode = true;
        spec.hidden = hiddenPromptInfo();
        spec.description = QStringLiteral("Saves the input images to your ComfyUI output directory.");
        cat.add(spec);
    }

    {
        NodeClassSpec spec = make(
            QStringLiteral("CreateVideo"), QStringLiteral("Create Video"), QStringLiteral("image/video"),
            QStringLiteral("comfy_extras.nodes_video"), {QStringLiteral("VIDEO")},
            {link(QStringLiteral("images"), image), floatInput(QStringLiteral("fps"), 30.0, 1.0, 120.0, 1.0),
             link(QStringLiteral("audio"), QStringLiteral("AUDIO"), false)});
        spec.v3 = true;
        spec.description = QStringLiteral("Create a video from images.");
        cat.add(spec);
    }

    {
        NodeClassSpec spec =
            make(QStringLiteral("SaveVideo"), QStringLiteral("Save Video"), QStringLiteral("image/video"),
                 QStringLiteral("comfy_extras.nodes_video"), {},
                 {link(QStringLiteral("video"), QStringLiteral("VIDEO")),
                  stringInput(QStringLiteral("filename_prefix"), QStringLiteral("video/ComfyUI"), false),
                  comboV3(QStringLiteral("format"), {QStringLiteral("auto"), QStringLiteral("mp4")},
                          QStringLiteral("auto")),
                  comboV3(QStringLiteral("codec"), {QStringLiteral("auto"), QStringLiteral("h264")},
                          QStringLiteral("auto"))});
        spec.v3 = true;
        spec.outputNode = true;
        spec.hidden = hiddenPromptInfo();
        spec.description = QStringLiteral("Saves the input images to your ComfyUI output directory.");
        cat.add(spec);
    }

    {
        // VideoHelperSuite's per-format widgets (crf, pix_fmt, save_metadata, ...) are not declared inputs;
        // like the real server the sandbox ignores undeclared inputs.
        NodeClassSpec spec = make(
            QStringLiteral("VHS_VideoCombine"),
            QStringLiteral("Video Combine \U0001F3A5\U0001F165\U0001F157\U0001F162"),
            QStringLiteral("Video Helper Suite \U0001F3A5\U0001F165\U0001F157\U0001F162"),
            QStringLiteral("custom_nodes.ComfyUI-VideoHelperSuite"), {QStringLiteral("VHS_FILENAMES")},
            {link(QStringLiteral("images"), image),
             floatInput(QStringLiteral("frame_rate"), 8.0, 1.0, 1e9, 1.0),
             intInput(QStringLiteral("loop_count"), 0, 0, 100),
             stringInput(QStringLiteral("filename_prefix"), QStringLiteral("AnimateDiff"), false),
             combo(QStringLiteral("format"),
                   {QStringLiteral("image/gif"), QStringLiteral("image/webp"),
                    QStringLiteral("video/h264-mp4"), QStringLiteral("video/h265-mp4"),
                    QStringLiteral("video/webm"), QStringLiteral("video/ProRes")},
                   QJsonObject{{QStringLiteral("default"), QStringLiteral("image/gif")}}),
             boolInput(QStringLiteral("pingpong"), false), boolInput(QStringLiteral("save_output"), true),
             link(QStringLiteral("audio"), QStringLiteral("AUDIO"), false),
             link(QStringLiteral("meta_batch"), QStringLiteral("VHS_BatchManager"), false),
             link(QStringLiteral("vae"), vae, false)},
            {QStringLiteral("Filenames")});
        spec.outputNode = true;
        spec.hidden = QJsonObject{{QStringLiteral("prompt"), QStringLiteral("PROMPT")},
                                  {QStringLiteral("extra_pnginfo"), QStringLiteral("EXTRA_PNGINFO")},
                                  {QStringLiteral("unique_id"), QStringLiteral("UNIQUE_ID")}};
        cat.add(spec);
    }

    {
        NodeClassSpec spec = make(QStringLiteral("StringConcatenate"), QStringLiteral("Concatenate"),
                                  QStringLiteral("utils/string"), QStringLiteral("comfy_extras.nodes_string"),
                                  {QStringLiteral("STRING")},
                                  {stringInput(QStringLiteral("string_a"), QString(), true),
                                   stringInput(QStringLiteral("string_b"), QString(), true),
                                   stringInput(QStringLiteral("delimiter"), QString(), false)});
        spec.v3 = true;
        cat.add(spec);
    }

    {
        NodeClassSpec spec =
            make(QStringLiteral("PrimitiveStringMultiline"), QStringLiteral("String (Multiline)"),
                 QStringLiteral("utils/primitive"), QStringLiteral("comfy_extras.nodes_primitive"),
                 {QStringLiteral("STRING")}, {stringInput(QStringLiteral("value"), QString(), true)});
        spec.v3 = true;
        cat.add(spec);
    }

    {
        // Our own done-marker node (story-format.md, resources/comfyui/gemdirect_nodes).
        NodeClassSpec spec =
            make(QStringLiteral("GemDirectSaveFrames"), QStringLiteral("Save Frames + Done Marker"),
                 QStringLiteral("gemdirect"), QStringLiteral("custom_nodes.gemdirect_nodes"), {},
                 {link(QStringLiteral("images"), image),
                  stringInput(QStringLiteral("filename_prefix"), QStringLiteral("gemdirect/frames"), false),
                  stringInput(QStringLiteral("job_id"), QString(), false, false),
                  floatInput(QStringLiteral("fps"), 24.0, 0.0, 240.0, 0.01, false)});
        spec.outputNode = true;
        spec.hidden = QJsonObject{{QStringLiteral("prompt"), QStringLiteral("PROMPT")},
                                  {QStringLiteral("unique_id"), QStringLiteral("UNIQUE_ID")}};
        spec.description =
            QStringLiteral("Saves every frame like SaveImage, then atomically writes <base>.done.");
        cat.add(spec);
    }

    return cat;
}

void NodeCatalog::add(const NodeClassSpec& spec)
{
    m_classes.insert(spec.className, spec);
}

bool NodeCatalog::contains(const QString& cls) const
{
    return m_classes.contains(cls);
}

const NodeClassSpec* NodeCatalog::find(const QString& cls) const
{
    const auto it = m_classes.constFind(cls);
    return it == m_classes.constEnd() ? nullptr : &it.value();
}

void NodeCatalog::remove(const QString& cls)
{
    m_classes.remove(cls);
}

QStringList NodeCatalog::classNames() const
{
    QStringList names = m_classes.keys();
    std::sort(names.begin(), names.end());
    return names;
}

QJsonObject NodeCatalog::objectInfo(const QString& cls) const
{
    const NodeClassSpec* spec = find(cls);
    if (!spec)
        return {};
    return QJsonObject{{spec->className, nodeInfo(*spec)}};
}

QJsonObject NodeCatalog::objectInfoAll() const
{
    QJsonObject all;
    for (auto it = m_classes.constBegin(); it != m_classes.constEnd(); ++it)
        all.insert(it.key(), nodeInfo(it.value()));
    return all;
}

QJsonObject NodeCatalog::nodeInfo(const NodeClassSpec& spec) const
{
    QJsonObject required, optional;
    QJsonArray requiredOrder, optionalOrder;
    for (const NodeInputSpec& in : spec.inputs) {
        if (in.required) {
            required.insert(in.name, in.spec);
            requiredOrder.append(in.name);
        } else {
            optional.insert(in.name, in.spec);
            optionalOrder.append(in.name);
        }
    }
    QJsonObject input{{QStringLiteral("required"), required}};
    QJsonObject inputOrder{{QStringLiteral("required"), requiredOrder}};
    if (!optional.isEmpty()) {
        input.insert(QStringLiteral("optional"), optional);
        inputOrder.insert(QStringLiteral("optional"), optionalOrder);
    }
    if (!spec.hidden.isEmpty()) {
        input.insert(QStringLiteral("hidden"), spec.hidden);
        inputOrder.insert(QStringLiteral("hidden"), QJsonArray::fromStringList(spec.hidden.keys()));
    }

    const QStringList names = spec.outputNames.isEmpty() ? spec.outputTypes : spec.outputNames;
    QJsonArray outputIsList;
    for (qsizetype i = 0; i < spec.outputTypes.size(); ++i)
        outputIsList.append(false);

    QJsonObject info{
        {QStringLiteral("input"), input},
        {QStringLiteral("input_order"), inputOrder},
        {QStringLiteral("output"), QJsonArray::fromStringList(spec.outputTypes)},
        {QStringLiteral("output_is_list"), outputIsList},
        {QStringLiteral("output_name"), QJsonArray::fromStringList(names)},
        {QStringLiteral("name"), spec.className},
        {QStringLiteral("display_name"), spec.displayName.isEmpty() ? spec.className : spec.displayName},
        {QStringLiteral("description"), spec.description},
        {QStringLiteral("python_module"), spec.pythonModule},
        {QStringLiteral("category"), spec.category},
        {QStringLiteral("output_node"), spec.outputNode}};
    if (spec.v3) {
        // V3 nodes always publish output_tooltips (null where a tooltip is unset) and these flags.
        QJsonArray tooltips;
        for (qsizetype i = 0; i < spec.outputTypes.size(); ++i)
            tooltips.append(QJsonValue::Null);
        info.insert(QStringLiteral("output_tooltips"), tooltips);
        info.insert(QStringLiteral("deprecated"), false);
        info.insert(QStringLiteral("experimental"), false);
        info.insert(QStringLiteral("api_node"), false);
    }
    return info;
}

} // namespace gd::sandbox
