/* The step function's contract, tested directly: all-or-nothing incidents,
 * the move budget, determinism, the JSON form of the state, command errors,
 * suspend/resume/cancel, modification, the publish effect and assignee
 * changes with their listeners. BPMN semantics proper are in the
 * conformance scenarios (tests/conformance). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpmn.h"
#include "compile.h"
#include "exec.h"
#include "scripts.h"

#define HEAD                                                                                              \
    "<?xml version=\"1.0\"?><bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\"" \
    " xmlns:camunda=\"http://camunda.org/schema/1.0/bpmn\" id=\"D\" targetNamespace=\"t\">"              \
    "<bpmn:process id=\"P\" isExecutable=\"true\">"
#define TAIL "</bpmn:process></bpmn:definitions>"

typedef struct fixture {
    bpm_model *m;
    bpm_scripts *scripts;
    bpm_evaluator ev;
    bpm_env env;
    bpm_arena *arena;
    bpm_effects fx;
    bpm_inst *inst;
} fixture;

static void setup_doc(fixture *f, const char *body)
{
    char doc[8192];
    snprintf(doc, sizeof doc, HEAD "%s" TAIL, body);
    bpm_diags d;
    bpm_diags_init(&d);
    assert_int_equal(bpm_bpmn_read_buffer(doc, strlen(doc), "t.bpmn", NULL, &f->m, &d, NULL), BPM_OK);
    f->scripts = bpm_scripts_new(NULL, NULL);
    f->ev = bpm_scripts_evaluator(f->scripts);
    assert_int_equal(bpm_compile_model(f->m, &f->ev, &d), BPM_OK);
    bpm_diags_cleanup(&d);
    f->env = (bpm_env){.now_ms = 1767225600000LL, .eval = &f->ev, .max_moves = 200};
    f->arena = bpm_arena_new();
    bpm_effects_init(&f->fx, f->arena);
    f->inst = bpm_inst_new(&f->m->processes[0], "i1", "bk", "P:1");
}

static void teardown(fixture *f)
{
    bpm_effects_cleanup(&f->fx);
    bpm_arena_free(f->arena);
    bpm_inst_free(f->inst);
    bpm_scripts_free(f->scripts);
    bpm_model_unref(f->m);
}

static bpm_rc run(fixture *f, bpm_cmd cmd, bpm_err *err)
{
    bpm_effects_cleanup(&f->fx);
    bpm_arena_reset(f->arena);
    bpm_effects_init(&f->fx, f->arena);
    return bpm_exec_step(f->m, &f->inst, &cmd, &f->env, &f->fx, err);
}

static const bpm_effect *incident(const fixture *f)
{
    for (size_t i = 0; i < f->fx.n; i++)
        if (f->fx.items[i].kind == BPM_FX_INCIDENT)
            return &f->fx.items[i];
    return NULL;
}

static uint32_t wait_at(const fixture *f, const char *element)
{
    for (size_t i = 0; i < f->inst->n_waits; i++)
        if (strcmp(f->inst->waits[i].node->id, element) == 0)
            return f->inst->waits[i].id;
    return 0;
}

static char *state_text(const bpm_inst *inst)
{
    json_t *j = bpm_inst_to_json(inst);
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    return s;
}

static const char *task_then_script =
    "<bpmn:startEvent id=\"S\"/><bpmn:sequenceFlow id=\"f1\" sourceRef=\"S\" targetRef=\"T\"/>"
    "<bpmn:userTask id=\"T\"/><bpmn:sequenceFlow id=\"f2\" sourceRef=\"T\" targetRef=\"X\"/>"
    "<bpmn:scriptTask id=\"X\" scriptFormat=\"lua\"><bpmn:script>if vars.fail then error('boom') end vars.done = true</bpmn:script></bpmn:scriptTask>"
    "<bpmn:sequenceFlow id=\"f3\" sourceRef=\"X\" targetRef=\"E\"/><bpmn:endEvent id=\"E\"/>";

/* An incident leaves the instance exactly as it was, and is the only effect. */
static void test_incident_is_all_or_nothing(void **state)
{
    (void)state;
    fixture f;
    setup_doc(&f, task_then_script);
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_START}, NULL), BPM_OK);
    uint32_t w = wait_at(&f, "T");
    assert_true(w != 0);
    char *before = state_text(f.inst);
    json_t *vars = json_pack("{s:b, s:s}", "fail", 1, "note", "set before the failure");
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_COMPLETE, .wait = w, .vars = vars}, NULL), BPM_OK);
    json_decref(vars);
    assert_int_equal(f.fx.n, 1);
    const bpm_effect *inc = incident(&f);
    assert_non_null(inc);
    assert_string_equal(inc->node->id, "X");
    assert_non_null(strstr(inc->message, "boom"));
    char *after = state_text(f.inst);
    assert_string_equal(before, after); /* the variables set by the command are gone too */
    free(before);
    free(after);
    /* and the task can be completed properly afterwards */
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_COMPLETE, .wait = w}, NULL), BPM_OK);
    assert_null(incident(&f));
    assert_int_equal(f.inst->state, BPM_INST_COMPLETED);
    teardown(&f);
}

static const char *publisher =
    "<bpmn:startEvent id=\"S\"/><bpmn:sequenceFlow id=\"f1\" sourceRef=\"S\" targetRef=\"A\"/>"
    "<bpmn:sendTask id=\"A\"><bpmn:extensionElements><camunda:connector>"
    "<camunda:connectorId>rabbitmq-publish</camunda:connectorId><camunda:inputOutput>"
    "<camunda:inputParameter name=\"routingKey\">orders</camunda:inputParameter>"
    "<camunda:inputParameter name=\"body\">${n}</camunda:inputParameter>"
    "</camunda:inputOutput></camunda:connector></bpmn:extensionElements></bpmn:sendTask>"
    "<bpmn:sequenceFlow id=\"f2\" sourceRef=\"A\" targetRef=\"T\"/><bpmn:userTask id=\"T\"/>"
    "<bpmn:sequenceFlow id=\"f3\" sourceRef=\"T\" targetRef=\"B\"/>"
    "<bpmn:sendTask id=\"B\"><bpmn:extensionElements><camunda:connector>"
    "<camunda:connectorId>rabbitmq-publish</camunda:connectorId><camunda:inputOutput>"
    "<camunda:inputParameter name=\"exchange\">amq.topic</camunda:inputParameter>"
    "<camunda:inputParameter name=\"routingKey\">done</camunda:inputParameter>"
    "<camunda:inputParameter name=\"body\">${n}</camunda:inputParameter>"
    "</camunda:inputOutput></camunda:connector></bpmn:extensionElements></bpmn:sendTask>"
    "<bpmn:sequenceFlow id=\"f4\" sourceRef=\"B\" targetRef=\"X\"/>"
    "<bpmn:scriptTask id=\"X\" scriptFormat=\"lua\"><bpmn:script>if vars.fail then error('boom') end</bpmn:script></bpmn:scriptTask>"
    "<bpmn:sequenceFlow id=\"f5\" sourceRef=\"X\" targetRef=\"E\"/><bpmn:endEvent id=\"E\"/>";

static const bpm_effect *published(const fixture *f, size_t *count)
{
    const bpm_effect *first = NULL;
    *count = 0;
    for (size_t i = 0; i < f->fx.n; i++)
        if (f->fx.items[i].kind == BPM_FX_PUBLISH && !(*count)++)
            first = &f->fx.items[i];
    return first;
}

/* A publishing send task emits BPM_FX_PUBLISH with the whole message and
 * its id fixed in the step (the same for the same inputs, unique within the
 * instance) and does not wait; a step that fails after it publishes nothing. */
static void test_publish(void **state)
{
    (void)state;
    fixture f;
    setup_doc(&f, publisher);
    json_t *vars = json_pack("{s:i}", "n", 7);
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_START, .vars = vars}, NULL), BPM_OK);
    size_t n;
    const bpm_effect *p = published(&f, &n);
    assert_int_equal(n, 1);
    assert_string_equal(p->name, "rabbitmq");
    assert_string_equal(p->node->id, "A");
    assert_string_equal(json_string_value(json_object_get(p->value, "messageId")), p->key);
    assert_string_equal(json_string_value(json_object_get(p->value, "exchange")), "");
    assert_string_equal(json_string_value(json_object_get(p->value, "routingKey")), "orders");
    assert_int_equal(json_integer_value(json_object_get(p->value, "body")), 7);
    assert_string_equal(json_string_value(json_object_get(p->value, "instanceId")), "i1");
    char first_id[64];
    snprintf(first_id, sizeof first_id, "%s", p->key);
    assert_true(wait_at(&f, "T") != 0); /* moved on at once */
    uint32_t w = wait_at(&f, "T");
    char *before = state_text(f.inst);
    /* B publishes, then X fails: the step is an incident and sends nothing */
    json_t *fail = json_pack("{s:b}", "fail", 1);
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_COMPLETE, .wait = w, .vars = fail}, NULL), BPM_OK);
    json_decref(fail);
    assert_non_null(incident(&f));
    assert_null(published(&f, &n));
    char *after = state_text(f.inst);
    assert_string_equal(before, after);
    free(before);
    free(after);
    /* done properly: B's message has an id of its own */
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_COMPLETE, .wait = w}, NULL), BPM_OK);
    p = published(&f, &n);
    assert_int_equal(n, 1);
    assert_string_equal(p->node->id, "B");
    assert_string_equal(json_string_value(json_object_get(p->value, "exchange")), "amq.topic");
    assert_string_not_equal(p->key, first_id);
    assert_int_equal(f.inst->state, BPM_INST_COMPLETED);
    teardown(&f);
    /* the same inputs give the same message id */
    setup_doc(&f, publisher);
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_START, .vars = vars}, NULL), BPM_OK);
    assert_string_equal(published(&f, &n)->key, first_id);
    json_decref(vars);
    teardown(&f);
}

/* A loop without a wait state ends in an incident naming the loop. */
static void test_move_budget(void **state)
{
    (void)state;
    fixture f;
    setup_doc(&f, "<bpmn:startEvent id=\"S\"/><bpmn:sequenceFlow id=\"f1\" sourceRef=\"S\" targetRef=\"G\"/>"
                  "<bpmn:exclusiveGateway id=\"G\"/><bpmn:sequenceFlow id=\"f2\" sourceRef=\"G\" targetRef=\"Spin\"/>"
                  "<bpmn:scriptTask id=\"Spin\" scriptFormat=\"lua\"><bpmn:script>vars.n = (vars.n or 0) + 1</bpmn:script></bpmn:scriptTask>"
                  "<bpmn:sequenceFlow id=\"f3\" sourceRef=\"Spin\" targetRef=\"G\"/>");
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_START}, NULL), BPM_OK);
    const bpm_effect *inc = incident(&f);
    assert_non_null(inc);
    assert_non_null(strstr(inc->message, "without reaching a wait state"));
    assert_int_equal(f.inst->n_eis, 0); /* the start itself was undone */
    teardown(&f);
}

/* Same inputs, same outputs: two runs give identical effects and states. */
static void test_deterministic(void **state)
{
    (void)state;
    char *states[2];
    size_t counts[2];
    for (int k = 0; k < 2; k++) {
        fixture f;
        setup_doc(&f, "<bpmn:startEvent id=\"S\"/><bpmn:sequenceFlow id=\"f1\" sourceRef=\"S\" targetRef=\"Fork\"/>"
                      "<bpmn:parallelGateway id=\"Fork\"/>"
                      "<bpmn:sequenceFlow id=\"a\" sourceRef=\"Fork\" targetRef=\"A\"/><bpmn:userTask id=\"A\"/>"
                      "<bpmn:sequenceFlow id=\"b\" sourceRef=\"Fork\" targetRef=\"B\"/><bpmn:userTask id=\"B\"/>"
                      "<bpmn:sequenceFlow id=\"c\" sourceRef=\"Fork\" targetRef=\"C\"/>"
                      "<bpmn:intermediateCatchEvent id=\"C\"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>");
        json_t *vars = json_pack("{s:i, s:[i,i]}", "x", 1, "list", 1, 2);
        assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_START, .vars = vars}, NULL), BPM_OK);
        json_decref(vars);
        states[k] = state_text(f.inst);
        counts[k] = f.fx.n;
        teardown(&f);
    }
    assert_string_equal(states[0], states[1]);
    assert_int_equal(counts[0], counts[1]);
    free(states[0]);
    free(states[1]);
}

/* The JSON form of the state round-trips at every wait. */
static void test_state_json_round_trip(void **state)
{
    (void)state;
    fixture f;
    setup_doc(&f, task_then_script);
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_START, .vars = NULL}, NULL), BPM_OK);
    json_t *j = bpm_inst_to_json(f.inst);
    bpm_inst *back = NULL;
    bpm_err err = {0};
    assert_int_equal(bpm_inst_from_json(&f.m->processes[0], j, &back, &err), BPM_OK);
    char *a = state_text(f.inst), *b = state_text(back);
    assert_string_equal(a, b);
    free(a);
    free(b);
    /* the restored state runs on: complete the task from it */
    bpm_inst_free(f.inst);
    f.inst = back;
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_COMPLETE, .wait = wait_at(&f, "T")}, NULL), BPM_OK);
    assert_int_equal(f.inst->state, BPM_INST_COMPLETED);
    /* bad state is refused with a reason */
    json_object_set_new(json_array_get(json_object_get(j, "elements"), 1), "node", json_string("Nope"));
    assert_int_equal(bpm_inst_from_json(&f.m->processes[0], j, &back, &err), BPM_INVALID);
    assert_non_null(strstr(err.msg, "Nope"));
    json_decref(j);
    teardown(&f);
}

static void test_command_errors(void **state)
{
    (void)state;
    fixture f;
    setup_doc(&f, task_then_script);
    bpm_err err = {0};
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_COMPLETE, .wait = 99}, &err), BPM_NOT_FOUND); /* not started */
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_START}, NULL), BPM_OK);
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_START}, &err), BPM_CONFLICT);
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_COMPLETE, .wait = 99}, &err), BPM_NOT_FOUND);
    assert_non_null(strstr(err.msg, "99"));
    json_t *bad = json_integer(3);
    uint32_t w = wait_at(&f, "T");
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_COMPLETE, .wait = w, .vars = bad}, &err), BPM_BAD_REQUEST);
    json_decref(bad);
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_TRIGGER, .wait = w}, &err), BPM_BAD_REQUEST);
    /* completing twice: one success, then a clear error */
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_COMPLETE, .wait = w}, NULL), BPM_OK);
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_COMPLETE, .wait = w}, &err), BPM_CONFLICT);
    teardown(&f);
}

static void test_suspend_resume_cancel(void **state)
{
    (void)state;
    fixture f;
    setup_doc(&f, task_then_script);
    bpm_err err = {0};
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_START}, NULL), BPM_OK);
    uint32_t w = wait_at(&f, "T");
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_SUSPEND}, NULL), BPM_OK);
    assert_true(f.inst->suspended);
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_COMPLETE, .wait = w}, &err), BPM_CONFLICT);
    assert_non_null(strstr(err.msg, "suspended"));
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_RESUME}, NULL), BPM_OK);
    assert_false(f.inst->suspended);
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_CANCEL}, NULL), BPM_OK);
    assert_int_equal(f.inst->state, BPM_INST_TERMINATED);
    assert_int_equal(f.inst->n_waits, 0);
    bool closed = false, ended = false;
    for (size_t i = 0; i < f.fx.n; i++) {
        closed |= f.fx.items[i].kind == BPM_FX_WAIT_CLOSE && f.fx.items[i].wait == w;
        ended |= f.fx.items[i].kind == BPM_FX_END;
    }
    assert_true(closed && ended);
    teardown(&f);
}

/* Operators move stuck tokens: cancel at an element, start before/after one. */
static void test_modify(void **state)
{
    (void)state;
    fixture f;
    setup_doc(&f, task_then_script);
    bpm_err err = {0};
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_START}, NULL), BPM_OK);
    const bpm_process *p = &f.m->processes[0];
    /* start a second token before X: it runs the script and ends there */
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_MODIFY_START_BEFORE, .node = bpm_model_find_node(p, "X")}, NULL),
                     BPM_OK);
    assert_int_equal(f.inst->state, BPM_INST_ACTIVE); /* T still waits */
    assert_true(json_is_true(bpm_exec_get_var(f.inst, bpm_inst_root(f.inst)->id, "done")));
    /* cancel the token at T: nothing is left, so the instance is cancelled
     * too (Camunda 7 process instance modification) */
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_MODIFY_CANCEL, .node = bpm_model_find_node(p, "T")}, NULL), BPM_OK);
    assert_int_equal(f.inst->state, BPM_INST_TERMINATED);
    teardown(&f);

    setup_doc(&f, task_then_script);
    p = &f.m->processes[0];
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_START}, NULL), BPM_OK);
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_MODIFY_CANCEL, .node = bpm_model_find_node(p, "T")}, NULL), BPM_OK);
    assert_int_equal(f.inst->state, BPM_INST_TERMINATED);
    teardown(&f);

    /* in one modification, cancel T and start before X: the token moves,
     * the instance is not ended on the way; the operation opens the effects */
    setup_doc(&f, task_then_script);
    p = &f.m->processes[0];
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_START}, NULL), BPM_OK);
    bpm_cmd moves[2] = {{.kind = BPM_CMD_MODIFY_CANCEL, .node = bpm_model_find_node(p, "T")},
                        {.kind = BPM_CMD_MODIFY_START_BEFORE, .node = bpm_model_find_node(p, "X")}};
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_MODIFY, .instructions = moves, .n_instructions = 2,
                                       .operation = "modify"},
                         NULL),
                     BPM_OK);
    assert_int_equal(f.inst->state, BPM_INST_COMPLETED); /* X ran to the end event */
    assert_true(json_is_true(bpm_exec_get_var(f.inst, bpm_inst_root(f.inst)->id, "done")));
    assert_int_equal(f.fx.items[0].kind, BPM_FX_OPERATION);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(f.fx.items[0].value, "instructions"), 1), "activityId")),
                        "X");
    /* the other way round: X runs to its end while T still waits, then
     * cancelling T leaves nothing, and the instance is cancelled (as in
     * Camunda 7, where the order of the instructions matters) */
    teardown(&f);
    setup_doc(&f, task_then_script);
    p = &f.m->processes[0];
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_START}, NULL), BPM_OK);
    bpm_cmd swapped[2] = {{.kind = BPM_CMD_MODIFY_START_BEFORE, .node = bpm_model_find_node(p, "X")},
                          {.kind = BPM_CMD_MODIFY_CANCEL, .node = bpm_model_find_node(p, "T")}};
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_MODIFY, .instructions = swapped, .n_instructions = 2}, NULL),
                     BPM_OK);
    assert_int_equal(f.inst->state, BPM_INST_TERMINATED);
    /* a modification without instructions, or with a non-modification in it, is refused */
    teardown(&f);
    setup_doc(&f, task_then_script);
    p = &f.m->processes[0];
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_START}, NULL), BPM_OK);
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_MODIFY, .instructions = NULL, .n_instructions = 0}, &err),
                     BPM_BAD_REQUEST);
    bpm_cmd bad[1] = {{.kind = BPM_CMD_CANCEL}};
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_MODIFY, .instructions = bad, .n_instructions = 1}, &err),
                     BPM_BAD_REQUEST);
    assert_true(wait_at(&f, "T") != 0);
    teardown(&f);

    setup_doc(&f, task_then_script);
    p = &f.m->processes[0];
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_START}, NULL), BPM_OK);
    /* start after T: the token goes straight to X, T keeps waiting */
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_MODIFY_START_AFTER, .node = bpm_model_find_node(p, "T")}, NULL),
                     BPM_OK);
    assert_non_null(bpm_exec_get_var(f.inst, bpm_inst_root(f.inst)->id, "done"));
    assert_true(wait_at(&f, "T") != 0);
    /* a node of another model is refused */
    bpm_node other = {.id = "Z", .process = NULL};
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_MODIFY_START_BEFORE, .node = &other}, &err), BPM_BAD_REQUEST);
    teardown(&f);
}

/* A user task whose assignment listener logs what it sees, refuses
 * mallory, and throws a BPMN error for thrower (caught on the task); its
 * complete listener notes who completed it. */
static const char *listening =
    "<bpmn:startEvent id=\"S\"/><bpmn:sequenceFlow id=\"f1\" sourceRef=\"S\" targetRef=\"T\"/>"
    "<bpmn:userTask id=\"T\" name=\"Review\" camunda:assignee=\"${first}\"><bpmn:extensionElements>"
    "<camunda:taskListener event=\"assignment\"><camunda:script scriptFormat=\"lua\">"
    "if task.assignee == 'mallory' then error('mallory may not hold ' .. task.name) end\n"
    "if task.assignee == 'thrower' then bpmn.error('TAKEN') end\n"
    "vars.log = (vars.log or '') .. task.eventName .. ':' .. (task.assignee or 'nobody') .. '/' ..\n"
    "  tostring(vars.note) .. '@' .. task.taskDefinitionKey .. ';'"
    "</camunda:script></camunda:taskListener>"
    "<camunda:taskListener event=\"complete\"><camunda:script scriptFormat=\"lua\">"
    "vars.done = task.eventName .. ':' .. task.assignee</camunda:script></camunda:taskListener>"
    "</bpmn:extensionElements></bpmn:userTask>"
    "<bpmn:sequenceFlow id=\"f2\" sourceRef=\"T\" targetRef=\"E\"/><bpmn:endEvent id=\"E\"/>"
    "<bpmn:boundaryEvent id=\"Taken\" attachedToRef=\"T\"><bpmn:errorEventDefinition/></bpmn:boundaryEvent>"
    "<bpmn:sequenceFlow id=\"f3\" sourceRef=\"Taken\" targetRef=\"Gone\"/><bpmn:endEvent id=\"Gone\"/>";

static const char *var_text(const fixture *f, const char *name)
{
    return json_string_value(bpm_exec_get_var(f->inst, bpm_inst_root(f->inst)->id, name));
}

static const char *assignee_at(const fixture *f, uint32_t w)
{
    const bpm_wait *wt = bpm_inst_wait(f->inst, w);
    return wt ? json_string_value(json_object_get(wt->data, "assignee")) : NULL;
}

static size_t count_fx(const fixture *f, bpm_effect_kind k)
{
    size_t n = 0;
    for (size_t i = 0; i < f->fx.n; i++)
        n += f->fx.items[i].kind == k;
    return n;
}

static bpm_cmd assign_cmd(uint32_t w, const char *user, const char *change)
{
    return (bpm_cmd){.kind = BPM_CMD_ASSIGN,
                     .wait = w,
                     .assignee = user,
                     .change = change,
                     .claim = strcmp(change, "claim") == 0};
}

/* Camunda 7 TaskEntity.setAssignee + triggerUpdateEvent: the assignment
 * listeners run whenever the assignee really changes (to nobody too), see
 * the new assignee as task.assignee, and write what they set in the same
 * step; a failing one leaves the task and the variables as they were. */
static void test_assign(void **state)
{
    (void)state;
    fixture f;
    bpm_err err = {0};
    /* created with an assignee: assignment after create, seeing it */
    setup_doc(&f, listening);
    json_t *vars = json_pack("{s:s}", "first", "carol");
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_START, .vars = vars}, NULL), BPM_OK);
    json_decref(vars);
    assert_string_equal(var_text(&f, "log"), "assignment:carol/nil@T;");
    /* the complete listeners see the task as it was */
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_COMPLETE, .wait = wait_at(&f, "T")}, NULL), BPM_OK);
    assert_null(incident(&f));
    assert_string_equal(var_text(&f, "done"), "complete:carol");
    teardown(&f);

    setup_doc(&f, listening);
    vars = json_pack("{s:n}", "first");
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_START, .vars = vars}, NULL), BPM_OK);
    json_decref(vars);
    assert_null(var_text(&f, "log")); /* no assignee, no assignment */
    uint32_t w = wait_at(&f, "T");

    /* a claim: the change first, then what the listener did */
    assert_int_equal(run(&f, assign_cmd(w, "alice", "claim"), NULL), BPM_OK);
    assert_null(incident(&f));
    assert_int_equal(f.fx.items[0].kind, BPM_FX_ASSIGN);
    assert_int_equal(f.fx.items[0].wait, w);
    assert_string_equal(f.fx.items[0].name, "alice");
    assert_null(f.fx.items[0].key);
    assert_string_equal(f.fx.items[0].message, "claim");
    assert_int_equal(count_fx(&f, BPM_FX_VAR), 1);
    assert_string_equal(var_text(&f, "log"), "assignment:alice/nil@T;");
    assert_string_equal(assignee_at(&f, w), "alice");

    /* someone else's claim is refused, with nothing done */
    char *before = state_text(f.inst);
    assert_int_equal(run(&f, assign_cmd(w, "bob", "claim"), &err), BPM_CONFLICT);
    assert_non_null(strstr(err.msg, "already claimed by alice"));
    assert_int_equal(f.fx.n, 0);
    char *after = state_text(f.inst);
    assert_string_equal(before, after);
    free(after);

    /* the holder again: no change, no listener */
    assert_int_equal(run(&f, assign_cmd(w, "alice", "claim"), NULL), BPM_OK);
    assert_int_equal(f.fx.n, 1);
    assert_int_equal(f.fx.items[0].kind, BPM_FX_ASSIGN);
    after = state_text(f.inst);
    assert_string_equal(before, after);
    free(after);

    /* a listener that fails: an incident alone, task and variables as they were */
    assert_int_equal(run(&f, assign_cmd(w, "mallory", "assign"), NULL), BPM_OK);
    const bpm_effect *inc = incident(&f);
    assert_non_null(inc);
    assert_int_equal(f.fx.n, 1);
    assert_string_equal(inc->node->id, "T");
    assert_non_null(strstr(inc->message, "mallory may not hold Review"));
    after = state_text(f.inst);
    assert_string_equal(before, after);
    free(after);
    free(before);
    assert_string_equal(assignee_at(&f, w), "alice");

    /* a delegation with variables: they are set before the listener runs */
    vars = json_pack("{s:s}", "note", "hand-over");
    bpm_cmd cmd = assign_cmd(w, "bob", "delegate");
    cmd.vars = vars;
    assert_int_equal(run(&f, cmd, NULL), BPM_OK);
    json_decref(vars);
    assert_null(incident(&f));
    assert_string_equal(var_text(&f, "log"), "assignment:alice/nil@T;assignment:bob/hand-over@T;");
    const bpm_effect *a = NULL;
    for (size_t i = 0; i < f.fx.n && !a; i++)
        a = f.fx.items[i].kind == BPM_FX_ASSIGN ? &f.fx.items[i] : NULL;
    assert_non_null(a);
    assert_string_equal(a->key, "alice");
    assert_string_equal(a->message, "delegate");
    assert_string_equal(assignee_at(&f, w), "bob");

    /* to nobody: the event fires too, task.assignee is nil */
    assert_int_equal(run(&f, assign_cmd(w, NULL, "unclaim"), NULL), BPM_OK);
    assert_string_equal(var_text(&f, "log"),
                        "assignment:alice/nil@T;assignment:bob/hand-over@T;assignment:nobody/hand-over@T;");
    assert_null(assignee_at(&f, w));
    assert_non_null(bpm_inst_wait(f.inst, w));

    /* waits that are not user tasks, or gone */
    assert_int_equal(run(&f, assign_cmd(99, "alice", "claim"), &err), BPM_NOT_FOUND);

    /* a BPMN error thrown by the listener leaves through the boundary event */
    assert_int_equal(run(&f, assign_cmd(w, "thrower", "assign"), NULL), BPM_OK);
    assert_null(incident(&f));
    assert_int_equal(f.inst->state, BPM_INST_COMPLETED);
    assert_int_equal(f.fx.items[0].kind, BPM_FX_ASSIGN);
    teardown(&f);

    /* a task without listeners changes hands with the change alone */
    setup_doc(&f, "<bpmn:startEvent id=\"S\"/><bpmn:sequenceFlow id=\"f1\" sourceRef=\"S\" targetRef=\"Fork\"/>"
                  "<bpmn:parallelGateway id=\"Fork\"/>"
                  "<bpmn:sequenceFlow id=\"a\" sourceRef=\"Fork\" targetRef=\"A\"/><bpmn:userTask id=\"A\"/>"
                  "<bpmn:sequenceFlow id=\"c\" sourceRef=\"Fork\" targetRef=\"C\"/>"
                  "<bpmn:intermediateCatchEvent id=\"C\"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H"
                  "</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>");
    assert_int_equal(run(&f, (bpm_cmd){.kind = BPM_CMD_START}, NULL), BPM_OK);
    assert_int_equal(run(&f, assign_cmd(wait_at(&f, "A"), "alice", "assign"), NULL), BPM_OK);
    assert_int_equal(f.fx.n, 1);
    assert_string_equal(assignee_at(&f, wait_at(&f, "A")), "alice");
    assert_int_equal(run(&f, assign_cmd(wait_at(&f, "C"), "alice", "assign"), &err), BPM_BAD_REQUEST);
    teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_incident_is_all_or_nothing),
        cmocka_unit_test(test_move_budget),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_state_json_round_trip),
        cmocka_unit_test(test_command_errors),
        cmocka_unit_test(test_suspend_resume_cancel),
        cmocka_unit_test(test_modify),
        cmocka_unit_test(test_publish),
        cmocka_unit_test(test_assign),
    };
    return cmocka_run_group_tests_name("exec", tests, NULL, NULL);
}
