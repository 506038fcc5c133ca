{
  "targets": [
    {
      "target_name": "aionet",
      "sources": ["src/addon.c", "src/batch_io.c", "src/engine.c", "src/poller_epoll.c", "src/write_queue.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fvisibility=hidden"],
      "conditions": [["OS!='linux'", {"type": "none", "sources": []}]]
    }
  ]
}
