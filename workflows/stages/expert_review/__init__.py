"""专家评审 (expert review): a panel of experts drawn at random from the pool scores the
program's rubric.

    draw_panel -> panel_split -> expert_score (one task per seat, in parallel) -> panel_join
               -> panel_close -> next stage

`panel_split` is a dynamic split: its activation asks the services for the panel's seats and
creates one `expert_score` task per seat (the seat id travels in `task.data`), all sharing the
split's token prefix, so viewflow's Join waits for however many branches there are. A recusal or a
late expert's replacement reassigns the *same* task to the replacement expert, so the number of
branches never changes and the join still waits for every seat. A seat no expert can fill stays
an unassigned task for the panel managers (permission `workflows.manage_panels`).
"""
