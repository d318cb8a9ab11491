/* Steps of `hqio demo` that live in their own files (tools/demo_*.c). */
#ifndef HQIO_TOOLS_DEMO_STEPS_H
#define HQIO_TOOLS_DEMO_STEPS_H

void demo_step_dvh_scan(int n);
void demo_step_dvh_runtime(int n);
void demo_step_audio(int n);
void demo_step_vfio(int n);
void demo_step_monitor(int n);

#endif
