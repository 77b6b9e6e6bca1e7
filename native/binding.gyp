# Builds native/build/Release/socktop.node: the libbpf session (open, attach, poll, stats) and the
# read-only probes used by `socktop check` and the layout test.
# Build: bash scripts/build-addon.sh (node-gyp rebuild with the running Node's headers, then the
# prebuilt copy the npm package ships), or npx node-gyp rebuild --directory native.
{
  "targets": [
    {
      "target_name": "socktop",
      "sources": [
        "src/addon.cc",
        "src/session_wrap.cc",
        "src/reader.cc",
        "src/cgroup.cc",
        "src/opaque_id.cc",
        "src/targets.cc",
        "src/libbpf_log.cc",
        "src/privileges.cc",
        "src/layout.cc",
        "src/malloc_trim.cc"
      ],
      # C++ exceptions on (node's defaults turn them off): libbpf failures become C++ exceptions
      # that the addon turns into one-line JS Errors. (Not the node_addon_api_except gyp target:
      # gyp would write its makefiles into native/node_modules/.)
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-missing-field-initializers"],
      # NAPI_VERSION=8 (Node 12.22+): one binary loads on Node 20, 22 and 24.
      # libbpf is linked as a shared library and found through RUNPATH $ORIGIN: the npm package
      # ships libbpf.so.1 beside the prebuilt addon (Debian's libbpf.a is not -fPIC, so it cannot be
      # linked into a .node); a source build finds the system's. libelf and zlib come from the system.
      "libraries": ["-lbpf", "-lelf", "-lz"],
      "ldflags": ["-Wl,-rpath,'$$ORIGIN'"]
    }
  ]
}
