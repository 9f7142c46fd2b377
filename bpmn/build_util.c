/* Small readers over libxml2 nodes used by the builder: namespaced element
 * tests, attributes and text copied into the model arena, expressions. */
#include <ctype.h>
#include <libxml/xmlsave.h>
#include <string.h>

#include "build_int.h"

static bool ns_is(const xmlNs *ns, const char *href)
{
    return ns && ns->href && strcmp((const char *)ns->href, href) == 0;
}

bool bpm_build_ns_is_camunda(const xmlNs *ns)
{
    return ns_is(ns, BPM_NS_CAMUNDA) || ns_is(ns, BPM_NS_ACTIVITI);
}

bool bpm_build_is(const xmlNode *n, const char *ns, const char *name)
{
    if (!n || n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, name) != 0)
        return false;
    if (strcmp(ns, BPM_NS_CAMUNDA) == 0)
        return bpm_build_ns_is_camunda(n->ns);
    return ns_is(n->ns, ns);
}

bool bpm_build_is_bpmn(const xmlNode *n, const char *name) { return bpm_build_is(n, BPM_NS_BPMN, name); }
bool bpm_build_is_camunda(const xmlNode *n, const char *name) { return bpm_build_is(n, BPM_NS_CAMUNDA, name); }
bool bpm_build_is_zeebe(const xmlNode *n, const char *name) { return bpm_build_is(n, BPM_NS_ZEEBE, name); }

int bpm_build_line(const xmlNode *n)
{
    if (!n)
        return 0;
    long l = xmlGetLineNo(n);
    return l > 0 && l < 0x7fffffff ? (int)l : 0;
}

static const char *prop_value(bpm_builder *b, const xmlAttr *a)
{
    xmlChar *v = xmlNodeListGetString(a->doc, a->children, 1);
    const char *s = bpm_arena_strdup(b->m->arena, v ? (const char *)v : "");
    xmlFree(v);
    return s;
}

const char *bpm_build_attr(bpm_builder *b, const xmlNode *n, const char *name)
{
    for (const xmlAttr *a = n->properties; a; a = a->next)
        if (!a->ns && strcmp((const char *)a->name, name) == 0)
            return prop_value(b, a);
    return NULL;
}

const char *bpm_build_attr_ns(bpm_builder *b, const xmlNode *n, const char *ns, const char *name)
{
    bool camunda = strcmp(ns, BPM_NS_CAMUNDA) == 0;
    for (const xmlAttr *a = n->properties; a; a = a->next) {
        if (strcmp((const char *)a->name, name) != 0)
            continue;
        if (camunda ? bpm_build_ns_is_camunda(a->ns) : ns_is(a->ns, ns))
            return prop_value(b, a);
    }
    return NULL;
}

const char *bpm_build_camunda(bpm_builder *b, const xmlNode *n, const char *name)
{
    return bpm_build_attr_ns(b, n, BPM_NS_CAMUNDA, name);
}

const char *bpm_build_id(bpm_builder *b, const xmlNode *n, const char *name)
{
    const char *v = bpm_build_attr(b, n, name);
    return v ? bpm_model_intern(b->m, v) : NULL;
}

static const char *trim_copy(bpm_builder *b, const char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    return bpm_arena_strndup(b->m->arena, s, n);
}

const char *bpm_build_text(bpm_builder *b, const xmlNode *n, bool trim)
{
    xmlChar *v = xmlNodeGetContent(n);
    if (!v)
        return NULL;
    const char *s = trim ? trim_copy(b, (const char *)v) : bpm_arena_strdup(b->m->arena, (const char *)v);
    xmlFree(v);
    return s;
}

xmlNode *bpm_build_child(const xmlNode *n, const char *ns, const char *name)
{
    for (xmlNode *c = n->children; c; c = c->next)
        if (bpm_build_is(c, ns, name))
            return c;
    return NULL;
}

bool bpm_build_bool(bpm_builder *b, const xmlNode *n, const char *ns, const char *name, bool def,
                    const char *element_id)
{
    bool camunda = ns && strcmp(ns, BPM_NS_CAMUNDA) == 0;
    for (const xmlAttr *a = n->properties; a; a = a->next) {
        if (strcmp((const char *)a->name, name) != 0)
            continue;
        if (ns ? !(camunda ? bpm_build_ns_is_camunda(a->ns) : ns_is(a->ns, ns)) : a->ns != NULL)
            continue;
        /* compared in place: booleans are read often and kept nowhere */
        xmlChar *v = xmlNodeListGetString(a->doc, a->children, 1);
        bool res = def;
        if (v && strcmp((const char *)v, "true") == 0)
            res = true;
        else if (v && strcmp((const char *)v, "false") == 0)
            res = false;
        else
            BPM_DIAG(b, BPM_SEV_ERROR, n, element_id, "attribute \"%s\" must be \"true\" or \"false\", not \"%s\"",
                     name, v ? (const char *)v : "");
        xmlFree(v);
        return res;
    }
    return def;
}

static bool lang_is(const char *lang, const char *want)
{
    size_t i = 0;
    for (; lang[i] && want[i]; i++)
        if (tolower((unsigned char)lang[i]) != want[i])
            return false;
    return lang[i] == '\0' && want[i] == '\0';
}

bpm_expr bpm_build_expr(bpm_builder *b, const char *text, const char *language, int line,
                        bpm_dialect plain)
{
    bpm_expr e = {0};
    if (!text)
        return e;
    e.line = line;
    e.language = language;
    const char *t = text;
    while (*t && isspace((unsigned char)*t))
        t++;
    if (language && *language) {
        if (lang_is(language, "lua"))
            e.dialect = BPM_DIALECT_LUA;
        else if (lang_is(language, "feel") || lang_is(language, "http://www.omg.org/spec/feel/20140401"))
            e.dialect = BPM_DIALECT_FEEL;
        else if (lang_is(language, "juel") || lang_is(language, "el") ||
                 lang_is(language, "http://www.java.com/java") ||
                 lang_is(language, "http://www.w3.org/1999/xpath"))
            /* Camunda's own default languages: treat as JUEL text. */
            e.dialect = strstr(t, "${") || strstr(t, "#{") ? BPM_DIALECT_JUEL : plain;
        else
            e.dialect = BPM_DIALECT_OTHER;
    } else if (*t == '=') {
        e.dialect = BPM_DIALECT_FEEL;
        t++;
    } else if (strstr(t, "${") || strstr(t, "#{")) {
        e.dialect = BPM_DIALECT_JUEL;
    } else {
        e.dialect = plain;
    }
    if (e.dialect == BPM_DIALECT_LUA || e.dialect == BPM_DIALECT_OTHER)
        e.text = bpm_arena_strdup(b->m->arena, text); /* scripts keep their layout */
    else
        e.text = trim_copy(b, t);
    return e;
}

bpm_expr bpm_build_expr_child(bpm_builder *b, const xmlNode *parent, const char *name,
                              bpm_dialect plain)
{
    xmlNode *c = bpm_build_child(parent, BPM_NS_BPMN, name);
    if (!c)
        return (bpm_expr){0};
    const char *lang = bpm_build_attr(b, c, "language");
    return bpm_build_expr(b, bpm_build_text(b, c, false), lang, bpm_build_line(c), plain);
}

bpm_unknown_ext bpm_build_unknown(bpm_builder *b, const xmlNode *n)
{
    bpm_unknown_ext u = {0};
    if (n->ns && n->ns->prefix)
        u.name = bpm_arena_sprintf(b->m->arena, "%s:%s", n->ns->prefix, n->name);
    else if (n->ns && n->ns->href)
        u.name = bpm_arena_sprintf(b->m->arena, "{%s}%s", n->ns->href, n->name);
    else
        u.name = bpm_arena_strdup(b->m->arena, (const char *)n->name);
    xmlBuffer *buf = xmlBufferCreate();
    if (buf) {
        xmlNodeDump(buf, b->doc, (xmlNode *)n, 0, 0);
        u.value = bpm_arena_strdup(b->m->arena, (const char *)xmlBufferContent(buf));
        xmlBufferFree(buf);
    }
    u.line = bpm_build_line(n);
    return u;
}

void *bpm_build_push(bpm_builder *b, void *arr, size_t *n, size_t sz)
{
    /* Arrays here are short (a handful of listeners or fields): grow by one
     * into the arena; the abandoned copies die with the model. Powers of two
     * keep the copying linear overall. */
    size_t old = *n;
    bool pow2 = old == 0 || (old & (old - 1)) == 0;
    void *res = arr;
    if (pow2)
        res = bpm_arena_grow(b->m->arena, arr, old, old ? old * 2 : 1, sz);
    (*n)++;
    return res;
}

const char *bpm_build_documentation(bpm_builder *b, const xmlNode *n)
{
    const char *doc = NULL;
    for (xmlNode *c = n->children; c; c = c->next) {
        if (!bpm_build_is_bpmn(c, "documentation"))
            continue;
        const char *t = bpm_build_text(b, c, true);
        if (!t || !*t)
            continue;
        doc = doc ? bpm_arena_sprintf(b->m->arena, "%s\n%s", doc, t) : t;
    }
    return doc;
}
