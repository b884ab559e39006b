#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <poll.h>
#include <errno.h>
#include <stdio.h>
#include <linux/videodev2.h>
#include <libv4l2.h>

/* ioctl and libv4l2's v4l2_ioctl are variadic and the VIDIOC_* requests and fourcc codes are
   function-like macros: Swift sees neither, so they are restated here. */
static inline int fer_v4l2_ioctl(int fd, unsigned long request, void *arg) { return v4l2_ioctl(fd, request, arg); }
static inline int fer_ioctl(int fd, unsigned long request, void *arg) { return ioctl(fd, request, arg); }

static const unsigned long FER_VIDIOC_QUERYCAP = VIDIOC_QUERYCAP;
static const unsigned long FER_VIDIOC_ENUM_FMT = VIDIOC_ENUM_FMT;
static const unsigned long FER_VIDIOC_G_FMT = VIDIOC_G_FMT;
static const unsigned long FER_VIDIOC_S_FMT = VIDIOC_S_FMT;
static const unsigned long FER_VIDIOC_G_PARM = VIDIOC_G_PARM;
static const unsigned long FER_VIDIOC_S_PARM = VIDIOC_S_PARM;
static const unsigned long FER_VIDIOC_REQBUFS = VIDIOC_REQBUFS;
static const unsigned long FER_VIDIOC_QUERYBUF = VIDIOC_QUERYBUF;
static const unsigned long FER_VIDIOC_QBUF = VIDIOC_QBUF;
static const unsigned long FER_VIDIOC_DQBUF = VIDIOC_DQBUF;
static const unsigned long FER_VIDIOC_STREAMON = VIDIOC_STREAMON;
static const unsigned long FER_VIDIOC_STREAMOFF = VIDIOC_STREAMOFF;
static const unsigned long FER_VIDIOC_ENUM_FRAMESIZES = VIDIOC_ENUM_FRAMESIZES;
static const unsigned long FER_VIDIOC_ENUM_FRAMEINTERVALS = VIDIOC_ENUM_FRAMEINTERVALS;

/* libv4l2 writes its messages to stderr unless v4l2_log_file is set (and then it also traces
   every ioctl there): fer-live points it at a pipe and forwards only the errors that matter. */
static inline void fer_v4l2_set_log_file(FILE *file) { v4l2_log_file = file; }

static const unsigned int FER_PIX_FMT_YUYV = V4L2_PIX_FMT_YUYV;
static const unsigned int FER_PIX_FMT_MJPEG = V4L2_PIX_FMT_MJPEG;
static const unsigned int FER_PIX_FMT_JPEG = V4L2_PIX_FMT_JPEG;
static const unsigned int FER_PIX_FMT_RGB24 = V4L2_PIX_FMT_RGB24;
static const unsigned int FER_PIX_FMT_BGR24 = V4L2_PIX_FMT_BGR24;
static const unsigned int FER_PIX_FMT_UYVY = V4L2_PIX_FMT_UYVY;
static const unsigned int FER_PIX_FMT_NV12 = V4L2_PIX_FMT_NV12;
static const unsigned int FER_PIX_FMT_YUV420 = V4L2_PIX_FMT_YUV420;
