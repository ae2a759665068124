#pragma once
// The Communicator of a process started by an MPI launcher (mpirun, mpiexec, srun): MPI is
// initialised only when the environment says such a launcher started the process, so a plain run
// never loads the MPI runtime's network layers.
#include <memory>
#include <string>

#include "embcluster/communicator.h"

namespace embcluster {

// The world communicator when an MPI launcher started this process (`mpirun -np 1` too: a
// distributed run of one rank); null otherwise. Initialises MPI, which is finalised when the last
// reference goes.
std::shared_ptr<Communicator> mpi_world(int* argc, char*** argv);

// Ends every rank of the job (MPI_Abort) after printing the message on this rank's stderr.
[[noreturn]] void mpi_abort(const std::string& message, int code);

}  // namespace embcluster
