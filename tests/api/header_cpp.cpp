// header_cpp.cpp - localai.h must compile as C++ and link with extern "C" linkage.
#include "localai.h"

#include <cstdio>

int main() {
    localai_model_params mp;
    if (localai_model_params_init(&mp) != LOCALAI_STATUS_OK) return 1;
    localai_model *model = nullptr;
    localai_status st = localai_model_open("/nonexistent/model.gguf", &mp, &model);
    if (st == LOCALAI_STATUS_OK || model != nullptr) return 1;
    std::printf("C++ translation unit: liblocalai %s, open failed as expected: %s\n",
                localai_version(), localai_status_string(st));
    return 0;
}
