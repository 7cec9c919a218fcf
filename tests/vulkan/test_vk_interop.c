/* test_vk_interop.c - a host that owns its Vulkan instance and device (as a game does) runs a model on them through localai_vulkan_interop. */
#define VK_NO_PROTOTYPES
#include <dlfcn.h>
#include <math.h>
#include <vulkan/vulkan.h>

#include "localai.h"
#include "test_util.h"

static PFN_vkGetInstanceProcAddr gipa;
static int locks, unlocks, held, validation_messages;

static void lock_queue(void *user) {
    CHECK(user == &locks && held == 0);
    held = 1;
    locks++;
}
static void unlock_queue(void *user) {
    CHECK(user == &locks && held == 1);
    held = 0;
    unlocks++;
}

static VkBool32 VKAPI_PTR on_message(VkDebugUtilsMessageSeverityFlagBitsEXT sev, VkDebugUtilsMessageTypeFlagsEXT types,
                                     const VkDebugUtilsMessengerCallbackDataEXT *data, void *user) {
    (void)sev;
    (void)types;
    (void)user;
    validation_messages++;
    fprintf(stderr, "validation: %s\n", data->pMessage);
    return VK_FALSE;
}

#define LOAD(inst, name) PFN_##name name = (PFN_##name)gipa(inst, #name)

/* Logits of `prompt` on a model opened with p. */
static int logits_of(const localai_model_params *p, float *out, int32_t *backend) {
    static const localai_token prompt[6] = {1, 403, 407, 261, 378, 432};
    localai_model *m = NULL;
    CHECK_STATUS(localai_model_open(test_shared_path("models/stories260K.gguf"), p, &m), LOCALAI_STATUS_OK);
    if (m == NULL) return 0;
    *backend = localai_model_backend(m);
    localai_context *c = NULL;
    localai_context_params cp;
    localai_context_params_init(&cp);
    cp.n_ctx = 64;
    CHECK_STATUS(localai_context_new(m, &cp, &c), LOCALAI_STATUS_OK);
    localai_batch b;
    localai_batch_init(&b);
    b.n_tokens = 6;
    b.tokens = prompt;
    CHECK_STATUS(localai_decode(c, &b), LOCALAI_STATUS_OK);
    const float *o = NULL;
    CHECK_STATUS(localai_logits(c, -1, &o), LOCALAI_STATUS_OK);
    const int32_t V = localai_model_n_vocab(m);
    CHECK(V == 512); /* stories260K's vocabulary: the size of the caller's buffers */
    if (o != NULL && V == 512) memcpy(out, o, (size_t)V * sizeof(float));
    localai_context_free(c);
    localai_model_close(m);
    return o != NULL;
}

int main(void) {
    localai_vulkan_needs needs;
    needs.struct_size = sizeof needs;
    CHECK_STATUS(localai_vulkan_device_needs(&needs), LOCALAI_STATUS_OK);
    CHECK(needs.api_version == VK_API_VERSION_1_2 && needs.n_required_extensions == 0 && needs.n_optional_features > 0);

    void *lib = dlopen("libvulkan.so.1", RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL || (gipa = (PFN_vkGetInstanceProcAddr)dlsym(lib, "vkGetInstanceProcAddr")) == NULL) {
        printf("SKIP: no Vulkan loader\n");
        return 77;
    }
    /* the host's instance, with the validation layer: our use of its device must not
     * draw a single message */
    LOAD(NULL, vkCreateInstance);
    const char *layer = "VK_LAYER_KHRONOS_validation", *ext = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO, .apiVersion = VK_API_VERSION_1_2};
    VkDebugUtilsMessengerCreateInfoEXT dm = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT,
        .pfnUserCallback = on_message};
    VkInstanceCreateInfo ii = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pNext = &dm, .pApplicationInfo = &app,
                               .enabledLayerCount = 1, .ppEnabledLayerNames = &layer,
                               .enabledExtensionCount = 1, .ppEnabledExtensionNames = &ext};
    VkInstance inst = VK_NULL_HANDLE;
    if (vkCreateInstance(&ii, NULL, &inst) != VK_SUCCESS) {
        printf("SKIP: no Vulkan instance with the validation layer\n");
        return 77;
    }
    LOAD(inst, vkEnumeratePhysicalDevices);
    LOAD(inst, vkGetPhysicalDeviceQueueFamilyProperties);
    LOAD(inst, vkCreateDevice);
    LOAD(inst, vkDestroyDevice);
    LOAD(inst, vkDestroyInstance);
    uint32_t n = 1;
    VkPhysicalDevice pd = VK_NULL_HANDLE;
    VkResult r = vkEnumeratePhysicalDevices(inst, &n, &pd);
    if ((r != VK_SUCCESS && r != VK_INCOMPLETE) || n == 0) {
        vkDestroyInstance(inst, NULL);
        printf("SKIP: no Vulkan device\n");
        return 77;
    }
    uint32_t nq = 0, fam = UINT32_MAX;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &nq, NULL);
    VkQueueFamilyProperties qf[16];
    if (nq > 16) nq = 16;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &nq, qf);
    for (uint32_t i = 0; i < nq && fam == UINT32_MAX; i++)
        if (qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) fam = i;
    const float prio = 1.0f;
    VkDeviceQueueCreateInfo qi = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueFamilyIndex = fam,
                                  .queueCount = 1, .pQueuePriorities = &prio};
    VkDeviceCreateInfo di = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .queueCreateInfoCount = 1, .pQueueCreateInfos = &qi};
    VkDevice dev = VK_NULL_HANDLE;
    CHECK(fam != UINT32_MAX && vkCreateDevice(pd, &di, NULL, &dev) == VK_SUCCESS);

    localai_vulkan_interop vi;
    memset(&vi, 0, sizeof vi);
    vi.struct_size = sizeof vi;
    vi.api_version = VK_API_VERSION_1_2;
    vi.instance = inst;
    vi.physical_device = pd;
    vi.device = dev;
    vi.queue_family = fam;
    vi.queue_index = 0;
    vi.get_instance_proc_addr = (localai_vk_get_instance_proc_addr_fn)(void (*)(void))gipa;
    vi.lock_queue = lock_queue;
    vi.unlock_queue = unlock_queue;
    vi.user = &locks;

    localai_model_params p;
    localai_model_params_init(&p);
    p.backend = LOCALAI_BACKEND_VULKAN;
    p.vulkan = &vi;
    const int32_t V = 512;
    float *host = calloc(V, sizeof(float)), *own = calloc(V, sizeof(float)), *cpu = calloc(V, sizeof(float));
    int32_t be_host = -1, be_own = -1, be_cpu = -1;
    if (logits_of(&p, host, &be_host)) {
        CHECK(be_host == LOCALAI_BACKEND_VULKAN);
        CHECK(locks > 0 && locks == unlocks && held == 0);
        printf("host device: %d queue submissions under the host's lock\n", locks);
    }
    /* the same numbers as on a device of our own, and close to the CPU's */
    localai_model_params_init(&p);
    p.backend = LOCALAI_BACKEND_VULKAN;
    CHECK(logits_of(&p, own, &be_own) && memcmp(host, own, V * sizeof(float)) == 0);
    p.backend = LOCALAI_BACKEND_CPU;
    CHECK(logits_of(&p, cpu, &be_cpu));
    double d = 0, mx = 0;
    for (int i = 0; i < V; i++) {
        d = fmax(d, fabs((double)host[i] - cpu[i]));
        mx = fmax(mx, fabs((double)cpu[i]));
    }
    printf("host device vs CPU: max |diff| / max |ref| %.3g\n", d / mx);
    CHECK(d / mx < 1e-3);

    /* what a host gets wrong is refused with a message, never used */
    localai_model *m = NULL;
    localai_model_params_init(&p);
    p.vulkan = &vi;
    vi.api_version = VK_API_VERSION_1_1;
    CHECK_STATUS(localai_model_open(test_shared_path("models/stories260K.gguf"), &p, &m), LOCALAI_STATUS_INVALID_ARGUMENT);
    vi.api_version = VK_API_VERSION_1_2;
    vi.queue_family = 99;
    CHECK_STATUS(localai_model_open(test_shared_path("models/stories260K.gguf"), &p, &m), LOCALAI_STATUS_INVALID_ARGUMENT);
    vi.queue_family = fam;
    vi.unlock_queue = NULL;
    CHECK_STATUS(localai_model_open(test_shared_path("models/stories260K.gguf"), &p, &m), LOCALAI_STATUS_INVALID_ARGUMENT);
    vi.unlock_queue = unlock_queue;
    p.vk_device = dev; /* the 0.1.0 placeholders */
    CHECK_STATUS(localai_model_open(test_shared_path("models/stories260K.gguf"), &p, &m), LOCALAI_STATUS_INVALID_ARGUMENT);
    CHECK(m == NULL);

    /* the host's device and instance are still whole: the host destroys them */
    vkDestroyDevice(dev, NULL);
    vkDestroyInstance(inst, NULL);
    CHECK_MSG(validation_messages == 0, "%d validation messages", validation_messages);
    free(host);
    free(own);
    free(cpu);
    return test_finish("test_vk_interop");
}
