/* Safe reading of BPMN documents: no network, no DTD, no entities, bounded
 * size and depth; then build and validate. Entry points of bpmn/. */
#include "bpmn.h"

#include <errno.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "build.h"
#include "build_int.h"

#define DEFAULT_MAX_BYTES ((size_t)64 * 1024 * 1024)
#define DEFAULT_MAX_DEPTH 256

static xmlParserInputPtr refuse_entity(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
    (void)url;
    (void)id;
    (void)ctxt;
    return NULL; /* never fetch or read anything a document points at */
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_libxml(void)
{
    xmlInitParser();
    xmlSetExternalEntityLoader(refuse_entity);
}

void bpm_bpmn_init(void) { pthread_once(&init_once, init_libxml); }

typedef struct xml_errors {
    char msg[256];
    int line;
    int column;
    bool seen;
} xml_errors;

static void on_xml_error(void *ctx, xmlErrorPtr e)
{
    xml_errors *xe = ctx;
    if (xe->seen || !e || e->level < XML_ERR_ERROR || e->domain == XML_FROM_NAMESPACE)
        return;
    xe->seen = true;
    xe->line = e->line;
    xe->column = e->int2;
    if (e->message && strstr(e->message, "Excessive depth"))
        snprintf(xe->msg, sizeof xe->msg, "element nesting depth exceeds the limit of 256 levels");
    else
        snprintf(xe->msg, sizeof xe->msg, "%s", e->message ? e->message : "malformed XML");
    /* diagnostics are one line: libxml2 continues some messages on a second
     * line (the offending bytes), which we fold in */
    for (char *c = xe->msg; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    size_t n = strlen(xe->msg);
    while (n && xe->msg[n - 1] == ' ')
        xe->msg[--n] = '\0';
}

static void on_generic_error(void *ctx, const char *fmt, ...)
{
    (void)ctx;
    (void)fmt; /* silenced: structured errors are collected instead */
}

static int line_at(const char *buf, size_t off)
{
    int line = 1;
    for (size_t i = 0; i < off; i++)
        if (buf[i] == '\n')
            line++;
    return line;
}

static const char *find(const char *buf, size_t from, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = from; i + n <= len; i++)
        if (memcmp(buf + i, needle, n) == 0)
            return buf + i;
    return NULL;
}

/* Finds a DOCTYPE in the prolog (before the root element starts): we refuse
 * DTDs outright, which rules out internal and external entities alike. */
static bool prolog_doctype(const char *buf, size_t len, size_t *at)
{
    size_t i = 0;
    if (len >= 3 && (unsigned char)buf[0] == 0xEF && (unsigned char)buf[1] == 0xBB && (unsigned char)buf[2] == 0xBF)
        i = 3;
    while (i < len) {
        char c = buf[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            i++;
            continue;
        }
        if (c != '<' || i + 1 >= len)
            return false;
        if (buf[i + 1] == '?') {
            const char *e = find(buf, i, len, "?>");
            if (!e)
                return false;
            i = (size_t)(e - buf) + 2;
        } else if (len - i >= 4 && memcmp(buf + i, "<!--", 4) == 0) {
            const char *e = find(buf, i + 4, len, "-->");
            if (!e)
                return false;
            i = (size_t)(e - buf) + 3;
        } else if (len - i >= 9 && memcmp(buf + i, "<!DOCTYPE", 9) == 0) {
            *at = i;
            return true;
        } else {
            return false; /* the root element */
        }
    }
    return false;
}

bpm_rc bpm_bpmn_read_buffer(const char *buf, size_t len, const char *file,
                            const bpm_bpmn_limits *limits, bpm_model **out,
                            bpm_diags *diags, bpm_err *err)
{
    bpm_bpmn_init();
    const char *name = file ? file : "<memory>";
    size_t max_bytes = limits && limits->max_bytes ? limits->max_bytes : DEFAULT_MAX_BYTES;
    int max_depth = limits && limits->max_depth ? limits->max_depth : DEFAULT_MAX_DEPTH;

    if (len > max_bytes || len > (size_t)INT32_MAX) {
        bpm_diags_add(diags, BPM_SEV_ERROR, name, 0, NULL, "document is %zu bytes; the limit is %zu", len, max_bytes);
        return bpm_err_set(err, BPM_LIMIT, "%s: document is %zu bytes; the limit is %zu", name, len, max_bytes);
    }
    size_t at = 0;
    if (prolog_doctype(buf, len, &at)) {
        int line = line_at(buf, at);
        bpm_diags_add(diags, BPM_SEV_ERROR, name, line, NULL,
                      "document type declarations (DOCTYPE) are not allowed: they can define entities");
        return bpm_err_set(err, BPM_PARSE, "%s:%d: document type declarations (DOCTYPE) are not allowed", name, line);
    }

    xml_errors xe = {0};
    xmlSetStructuredErrorFunc(&xe, on_xml_error);
    xmlSetGenericErrorFunc(NULL, on_generic_error);
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    xmlDocPtr doc = NULL;
    if (ctxt)
        doc = xmlCtxtReadMemory(ctxt, buf, (int)len, name, NULL,
                                XML_PARSE_NONET | XML_PARSE_BIG_LINES | XML_PARSE_NOWARNING | XML_PARSE_NOERROR);
    xmlSetStructuredErrorFunc(NULL, NULL);
    xmlSetGenericErrorFunc(NULL, NULL);

    bpm_rc rc = BPM_OK;
    /* Namespace problems (an odd but harmless xmlns URI) are recoverable and
     * leave the document well-formed; only real well-formedness errors and
     * limits refuse it. */
    if (!ctxt || !doc || !ctxt->wellFormed) {
        if (!xe.seen && ctxt) {
            xmlErrorPtr e = xmlCtxtGetLastError(ctxt);
            if (e)
                on_xml_error(&xe, e);
        }
        const char *why = xe.seen ? xe.msg : "malformed XML";
        bool deep = strstr(why, "nesting depth") != NULL;
        bpm_diags_add(diags, BPM_SEV_ERROR, name, xe.line, NULL, "XML is not well-formed: %s", why);
        rc = bpm_err_set(err, deep ? BPM_LIMIT : BPM_PARSE, "%s:%d: XML is not well-formed: %s", name, xe.line, why);
        goto done;
    }
    if (doc->intSubset || doc->extSubset) {
        bpm_diags_add(diags, BPM_SEV_ERROR, name, 1, NULL, "document type declarations (DOCTYPE) are not allowed");
        rc = bpm_err_set(err, BPM_PARSE, "%s: document type declarations (DOCTYPE) are not allowed", name);
        goto done;
    }
    xmlNode *root = xmlDocGetRootElement(doc);
    if (!root || strcmp((const char *)root->name, "definitions") != 0) {
        int line = root ? (int)xmlGetLineNo(root) : 1;
        bpm_diags_add(diags, BPM_SEV_ERROR, name, line, NULL, "root element is <%s>; a BPMN document starts with <definitions>",
                      root ? (const char *)root->name : "");
        rc = bpm_err_set(err, BPM_PARSE, "%s:%d: not a BPMN document: root element is <%s>", name, line,
                         root ? (const char *)root->name : "");
        goto done;
    }
    if (!bpm_build_is_bpmn(root, "definitions")) {
        int line = (int)xmlGetLineNo(root);
        const char *ns = root->ns && root->ns->href ? (const char *)root->ns->href : "";
        bpm_diags_add(diags, BPM_SEV_ERROR, name, line, NULL,
                      "<definitions> is in namespace \"%s\"; BPMN 2.0 uses \"%s\"", ns, BPM_NS_BPMN);
        rc = bpm_err_set(err, BPM_PARSE, "%s:%d: <definitions> is not in the BPMN 2.0 model namespace", name, line);
        goto done;
    }

    bpm_model *m = bpm_model_new(name);
    bpm_build_model(m, doc, root, diags, max_depth);
    bpm_model_freeze(m);
    *out = m;
done:
    if (doc)
        xmlFreeDoc(doc);
    if (ctxt)
        xmlFreeParserCtxt(ctxt);
    return rc;
}

bpm_rc bpm_bpmn_read_file(const char *path, const bpm_bpmn_limits *limits,
                          bpm_model **out, bpm_diags *diags, bpm_err *err)
{
    size_t max_bytes = limits && limits->max_bytes ? limits->max_bytes : DEFAULT_MAX_BYTES;
    FILE *f = fopen(path, "rb");
    if (!f) {
        bpm_diags_add(diags, BPM_SEV_ERROR, path, 0, NULL, "could not open file: %s", strerror(errno));
        return bpm_err_set(err, BPM_IO, "could not open \"%s\": %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        bpm_diags_add(diags, BPM_SEV_ERROR, path, 0, NULL, "not a regular file");
        return bpm_err_set(err, BPM_IO, "\"%s\" is not a regular file", path);
    }
    if ((size_t)st.st_size > max_bytes) {
        fclose(f);
        bpm_diags_add(diags, BPM_SEV_ERROR, path, 0, NULL, "document is %lld bytes; the limit is %zu",
                      (long long)st.st_size, max_bytes);
        return bpm_err_set(err, BPM_LIMIT, "%s: document is %lld bytes; the limit is %zu", path,
                           (long long)st.st_size, max_bytes);
    }
    size_t size = (size_t)st.st_size;
    char *buf = bpm_xmalloc(size + 1);
    size_t got = fread(buf, 1, size, f);
    bool failed = ferror(f);
    fclose(f);
    if (failed || got != size) {
        free(buf);
        bpm_diags_add(diags, BPM_SEV_ERROR, path, 0, NULL, "could not read file");
        return bpm_err_set(err, BPM_IO, "could not read \"%s\"", path);
    }
    buf[size] = '\0';
    bpm_rc rc = bpm_bpmn_read_buffer(buf, size, path, limits, out, diags, err);
    free(buf);
    return rc;
}
