# Builds native/build/Release/socktop.node: the libbpf session (open, attach, poll, stats) and the
# read-only probes used by `socktop check` and the layout test.
# Build: npx node-gyp rebuild --directory native
{
  "targets": [
    {
      "target_name": "socktop",
      "sources": [
        "src/addon.cc",
        "src/session_wrap.cc",
        "src/reader.cc",
        "src/targets.cc",
        "src/libbpf_log.cc",
        "src/privileges.cc",
        "src/fentry_probe.cc",
        "src/layout.cc"
      ],
      # The _except target turns C++ exceptions on (-fexceptions, NAPI_CPP_EXCEPTIONS): libbpf
      # failures become C++ exceptions that the addon turns into one-line JS Errors.
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"
      ],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-missing-field-initializers"],
      "libraries": ["-lbpf", "-lelf", "-lz"]
    }
  ]
}
