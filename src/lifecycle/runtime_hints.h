/* Runtime hints (README "Runtime hints"): in a node, python or java
 * process, the shim's module for that runtime is loaded through the
 * runtime's own mechanism (NODE_OPTIONS=--require, a sitecustomize first on
 * PYTHONPATH, -javaagent first in JAVA_TOOL_OPTIONS),
 * so that an outgoing request made for a server request names it (see
 * protocols/http1/http_hint.h). OTELAUTO_RUNTIME_HINTS=false turns it off. */
#ifndef OA_RUNTIME_HINTS_H
#define OA_RUNTIME_HINTS_H

/* From the constructor, before the runtime reads its environment. */
void oa_runtime_hints_install(void);

#endif
