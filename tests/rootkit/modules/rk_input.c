/* Test rootkit (i): the input keylogger technique. It registers an input
 * handler of its own (input_register_handler) that connects to every
 * device with keys, opens it and sees each event (here only counted). */
#include <linux/module.h>
#include <linux/input.h>
#include <linux/slab.h>

static atomic_long_t rk_events;

static void rk_event(struct input_handle *handle, unsigned int type, unsigned int code,
                     int value)
{
    if (type == EV_KEY)
        atomic_long_inc(&rk_events);
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
    int rc = input_register_handler(&rk_handler);

    if (rc == 0)
        pr_info("rk_input: input handler rk_keylog registered\n");
    return rc;
}

static void __exit rk_input_exit(void)
{
    input_unregister_handler(&rk_handler);
}
module_init(rk_input_init);
module_exit(rk_input_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("xenaccess test rootkit: input handler keylogger");
